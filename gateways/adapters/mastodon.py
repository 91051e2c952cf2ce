"""Mastodon statuses (PROVIDERS.md §7). The post's idempotency key goes in Idempotency-Key, which the
instance remembers for an hour, so sending the same post again never makes a second status."""

from __future__ import annotations

import re

from gateways.adapters._http import HttpAdapterMixin
from gateways.capabilities import ChannelPost, ChannelPostingAdapter, PublishedPost, register
from gateways.errors import ProviderRejected

DEFAULT_MAX_CHARACTERS = 500
URL_LENGTH = 23  # every link counts as 23 characters, whatever its length
_URL = re.compile(r"https?://\S+")


def status_length(text: str) -> int:
    return len(_URL.sub("x" * URL_LENGTH, text))


@register
class MastodonPostingAdapter(HttpAdapterMixin, ChannelPostingAdapter):
    key = "mastodon"
    label = "Mastodon"
    channel = "mastodon"
    parameters = ("visibility", "language")
    secret_parameters = ("access_token",)
    max_length = DEFAULT_MAX_CHARACTERS
    default_rate_limit = (300, 300.0)
    # The instance remembers Idempotency-Key for an hour: a retry after an unknown outcome cannot post twice.
    honours_idempotency_key = True
    credentials_advice = ("Mastodon answers {status}: the access token is wrong, revoked or lacks write:statuses; "
                          "update it in Provider accounts.")

    def http_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.credential('access_token')}", "Content-Type": "application/json"}

    def character_limit(self) -> int:
        """The instance's own limit (many raise the default 500); read once per adapter."""
        if not hasattr(self, "_character_limit"):
            instance = self.http.request_json("GET", self.url("/api/v2/instance"))
            limit = ((instance.get("configuration") or {}).get("statuses") or {}).get("max_characters")
            self._character_limit = int(limit or DEFAULT_MAX_CHARACTERS)
        return self._character_limit

    def publish(self, post: ChannelPost) -> PublishedPost:
        limit = self.character_limit()
        if status_length(post.text) > limit:
            raise ProviderRejected(f"Mastodon: the post is {status_length(post.text)} characters; this instance "
                                   f"takes {limit}", provider=self.name)
        body = {"status": post.text, "visibility": self.settings.get("visibility") or "public"}
        if self.settings.get("language"):
            body["language"] = self.settings["language"]
        if post.extra.get("media_ids"):
            body["media_ids"] = [str(i) for i in post.extra["media_ids"]]
        status = self.http.request_json("POST", self.url("/api/v1/statuses"), json=body,
                                        headers={"Idempotency-Key": post.idempotency_key})
        return PublishedPost(status="published", provider=self.name, external_id=str(status.get("id", "")),
                             url=status.get("url") or "", raw=status)

    def probe(self):
        def verify() -> str:
            account = self.http.request_json("GET", self.url("/api/v1/accounts/verify_credentials"))
            return f"signed in as @{account.get('acct') or account.get('username', '?')}"

        return self.timed_probe(verify)
