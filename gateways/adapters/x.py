"""X posts (PROVIDERS.md §7): POST /2/tweets with an OAuth 2.0 user token."""

from __future__ import annotations

from gateways.adapters._http import HttpAdapterMixin
from gateways.capabilities import ChannelPost, ChannelPostingAdapter, PublishedPost, register


@register
class XPostingAdapter(HttpAdapterMixin, ChannelPostingAdapter):
    key = "x"
    label = "X"
    channel = "x"
    secret_parameters = ("access_token",)
    default_base_url = "https://api.x.com"
    max_length = 280  # weighted: a URL counts 23; the channel formatter fits the text
    credentials_advice = ("X answers {status}: the user access token is wrong, expired or lacks tweet.write; "
                          "authorise again and update it in Provider accounts.")

    def http_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.credential('access_token')}", "Content-Type": "application/json"}

    def publish(self, post: ChannelPost) -> PublishedPost:
        body: dict = {"text": post.text}
        if post.extra.get("media_ids"):
            body["media"] = {"media_ids": [str(i) for i in post.extra["media_ids"]]}
        data = self.http.request_json("POST", self.url("/2/tweets"), json=body).get("data") or {}
        tweet_id = str(data.get("id", ""))
        return PublishedPost(status="published", provider=self.name, external_id=tweet_id,
                             url=f"https://x.com/i/web/status/{tweet_id}" if tweet_id else "", raw=data)

    def probe(self):
        def me() -> str:
            user = self.http.request_json("GET", self.url("/2/users/me")).get("data") or {}
            return f"signed in as @{user.get('username', '?')}"

        return self.timed_probe(me)
