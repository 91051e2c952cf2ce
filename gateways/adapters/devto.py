"""Dev.to (Forem) articles (PROVIDERS.md §4): create, find an earlier one, and read its statistics."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from gateways.adapters._http import HttpAdapterMixin, truthy
from gateways.capabilities import (
    ChannelPost,
    ChannelPostingAdapter,
    MetricsFetchingAdapter,
    PostMetrics,
    PublishedPost,
    register,
)

MAX_TAGS = 4
PAGE_SIZE = 1000  # Forem's largest per_page
MAX_PAGES = 20


def devto_tags(tags: list[str]) -> list[str]:
    """Forem tags are lower-case letters and digits; it refuses more than four."""
    cleaned = []
    for tag in tags:
        value = re.sub(r"[^0-9a-z]", "", tag.lower())
        if value and value not in cleaned:
            cleaned.append(value)
    return cleaned[:MAX_TAGS]


class DevtoClient(HttpAdapterMixin):
    label = "Dev.to"
    secret_parameters = ("api_key",)
    default_base_url = "https://dev.to"
    default_rate_limit = (1, 1.0)  # writes; reads allow 3/s
    credentials_advice = "Dev.to answers {status}: the API key is wrong or revoked; update it in Provider accounts."

    def http_headers(self) -> dict[str, str]:
        return {"api-key": self.credential("api_key"), "Content-Type": "application/json",
                "Accept": "application/vnd.forem.api-v1+json"}

    def my_articles(self) -> Iterator[dict[str, Any]]:
        """Every article of the key's user, drafts included, newest first."""
        for page in range(1, MAX_PAGES + 1):
            articles = self.http.request_json("GET", self.url("/api/articles/me/all"), expect=list,
                                              params={"page": page, "per_page": PAGE_SIZE})
            yield from articles
            if len(articles) < PAGE_SIZE:
                return

    def probe(self):
        def me() -> str:
            self.http.request("GET", self.url("/api/articles/me"), params={"per_page": 1})
            return "API key accepted"

        return self.timed_probe(me)


def published_post(provider: str, article: dict[str, Any]) -> PublishedPost:
    return PublishedPost(status="published", provider=provider, external_id=str(article.get("id", "")),
                         url=article.get("url") or "", raw=article)


@register
class DevtoPostingAdapter(DevtoClient, ChannelPostingAdapter):
    key = "devto"
    channel = "devto"
    parameters = ("publish_as_draft", "series")
    max_length = 100_000
    supports_lookup = True

    def publish(self, post: ChannelPost) -> PublishedPost:
        article = {
            "title": post.title or post.text[:120],
            "body_markdown": post.body_markdown or post.text,
            "published": not truthy(self.settings.get("publish_as_draft")),
            "tags": devto_tags(post.tags),
            "canonical_url": post.canonical_url,
            "description": post.extra.get("description", ""),
            "main_image": post.media_urls[0] if post.media_urls else "",
            "series": post.extra.get("series") or self.settings.get("series") or "",
        }
        article = {key: value for key, value in article.items() if value not in ("", None, [])}
        answer = self.http.request_json("POST", self.url("/api/articles"), json={"article": article})
        return published_post(self.name, answer)

    def lookup(self, post: ChannelPost) -> PublishedPost | None:
        """An article with this canonical URL, or failing that this title, made before an unknown outcome."""
        title = post.title or post.text[:120]
        for article in self.my_articles():
            if (post.canonical_url and article.get("canonical_url") == post.canonical_url) or \
                    (not post.canonical_url and article.get("title") == title):
                return published_post(self.name, article)
        return None


@register
class DevtoMetricsAdapter(DevtoClient, MetricsFetchingAdapter):
    key = "devto_metrics"

    def fetch(self, external_ids: list[str]) -> list[PostMetrics]:
        wanted = set(external_ids)
        found = {}
        for article in self.my_articles():
            article_id = str(article.get("id"))
            if article_id in wanted:
                found[article_id] = PostMetrics(
                    external_id=article_id, impressions=article.get("page_views_count"),
                    reactions=article.get("public_reactions_count"), comments=article.get("comments_count"),
                    raw=article,
                )
                if len(found) == len(wanted):
                    break
        return [found[i] for i in external_ids if i in found]
