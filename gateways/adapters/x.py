"""X posts (PROVIDERS.md §7): POST /2/tweets with an OAuth 2.0 user token; after an unknown outcome,
the account's own timeline (GET /2/users/:id/tweets) says whether the post was made."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta

from gateways.adapters._http import HttpAdapterMixin
from gateways.capabilities import ChannelPost, ChannelPostingAdapter, PublishedPost, register
from gateways.errors import ProviderUnavailable

TIMELINE_PAGE = 100  # the endpoint's largest max_results
TIMELINE_PAGES = 5
# X stamps created_at with its own clock; ours may run ahead of it by this much.
CLOCK_SKEW = timedelta(seconds=60)
_URL = re.compile(r"https?://\S+")


def comparable_text(text: str) -> str:
    """A post's text as the timeline gives it back: X answers with &amp; for &, and every link
    shortened to a t.co address, so links and spacing are left out of the comparison."""
    return " ".join(_URL.sub("<link>", html.unescape(text)).split())


def _timestamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@register
class XPostingAdapter(HttpAdapterMixin, ChannelPostingAdapter):
    key = "x"
    label = "X"
    channel = "x"
    secret_parameters = ("access_token",)
    default_base_url = "https://api.x.com"
    max_length = 280  # weighted: a URL counts 23; the channel formatter fits the text
    supports_lookup = True
    credentials_advice = ("X answers {status}: the user access token is wrong, expired or lacks tweet.write; "
                          "authorise again and update it in Provider accounts.")

    def http_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.credential('access_token')}", "Content-Type": "application/json"}

    def publish(self, post: ChannelPost) -> PublishedPost:
        body: dict = {"text": post.text}
        if post.extra.get("media_ids"):
            body["media"] = {"media_ids": [str(i) for i in post.extra["media_ids"]]}
        data = self.http.request_json("POST", self.url("/2/tweets"), json=body).get("data") or {}
        return self._published(data)

    def _published(self, tweet: dict) -> PublishedPost:
        tweet_id = str(tweet.get("id", ""))
        return PublishedPost(status="published", provider=self.name, external_id=tweet_id,
                             url=f"https://x.com/i/web/status/{tweet_id}" if tweet_id else "", raw=tweet)

    def _me(self) -> dict:
        return self.http.request_json("GET", self.url("/2/users/me")).get("data") or {}

    def lookup(self, post: ChannelPost) -> PublishedPost | None:
        """The account's post with this text (or an earlier attempt's) made since the job's first request, newest
        first; None when its timeline has none. Without `sent_after` only the last hour is read: an
        older post with the same text is another job's."""
        since = (post.sent_after or datetime.now(UTC) - timedelta(hours=1)) - CLOCK_SKEW
        wanted = {comparable_text(text) for text in [post.text, *post.earlier_texts]}
        params = {"max_results": TIMELINE_PAGE, "start_time": _timestamp(since), "exclude": "retweets,replies",
                  "tweet.fields": "created_at"}
        user_id = str(self._me().get("id") or "")
        if not user_id:
            raise ProviderUnavailable("X did not say which account the token is for", provider=self.name)
        path = f"/2/users/{user_id}/tweets"
        for _ in range(TIMELINE_PAGES):
            page = self.http.request_json("GET", self.url(path), params=params)
            for tweet in page.get("data") or []:
                if comparable_text(str(tweet.get("text", ""))) in wanted:
                    return self._published(tweet)
            next_token = (page.get("meta") or {}).get("next_token")
            if not next_token:
                return None
            params["pagination_token"] = next_token
        # Not read to the end: "no such post" would send it again, so say we cannot tell.
        raise ProviderUnavailable(f"X: more than {TIMELINE_PAGE * TIMELINE_PAGES} posts since "
                                  f"{_timestamp(since)}; the post was not among them", provider=self.name)

    def probe(self):
        def me() -> str:
            return f"signed in as @{self._me().get('username', '?')}"

        return self.timed_probe(me)
