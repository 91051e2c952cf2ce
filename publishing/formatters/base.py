"""What every channel formatter does: shape content into a version, count as the channel counts, validate.

A channel kind is one module in this package with a `@register`-ed subclass of ChannelFormatter;
nothing else needs editing to add a channel. Limits come from PROVIDERS.md §7.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import ClassVar

_HASHTAG_CLEAN = re.compile(r"[^\w]+", re.UNICODE)
URL = re.compile(r"https?://\S+", re.IGNORECASE)
_LINK = re.compile(r"\[([^\]]+)\]\(([^)]+)\)")
# A typed @handle (not the middle of an e-mail address); Mastodon's @user@instance is one handle.
_HANDLE = re.compile(r"(?<![\w@.])@(\w[\w.]*(?:@[\w.-]+\w)?)")
_MARKDOWN_NOISE = [
    (re.compile(r"!\[([^\]]*)\]\([^)]*\)"), r"\1"),  # images → alt text
    (_LINK, r"\1 (\2)"),  # links → text (url)
    (re.compile(r"^#{1,6}\s*", re.MULTILINE), ""),
    # An underscore inside a word is not emphasis (CommonMark): @team_news and snake_case stay whole.
    (re.compile(r"(\*\*|\*|`|(?<!\w)__?|__?(?!\w))"), ""),
    (re.compile(r"^\s*>\s?", re.MULTILINE), ""),
]


def markdown_to_text(markdown: str, *, links: bool = True) -> str:
    """Plain text of Markdown; with links=False a link keeps its words only, for channels where an
    address in the text is not clickable."""
    text = markdown if links else _LINK.sub(r"\1", markdown)
    for pattern, replacement in _MARKDOWN_NOISE:
        text = pattern.sub(replacement, text)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


@dataclass
class VersionDraft:
    title: str = ""
    body: str = ""
    hashtags: list[str] = field(default_factory=list)
    mentions: list[str] = field(default_factory=list)
    cta_text: str = ""
    cta_url: str = ""
    media_count: int = 0


class ChannelFormatter:
    key: ClassVar[str]
    label: ClassVar[str]
    max_length: ClassVar[int | None] = None
    max_hashtags: ClassVar[int | None] = None
    max_mentions: ClassVar[int | None] = None
    requires_media: ClassVar[bool] = False
    markdown: ClassVar[bool] = False
    uses_title: ClassVar[bool] = False
    # inline: "#CamelCase" words appended to the text; tags: a separate list of lowercase tags; none.
    hashtag_style: ClassVar[str] = "inline"
    default_cta_text: ClassVar[str] = "Read more"
    # False where the channel shows addresses in a post as plain text (Instagram captions): links in
    # the text keep their words only, and the call to action names where to go without an address.
    clickable_links: ClassVar[bool] = True
    # False where a typed @name links nobody (LinkedIn, Facebook, Slack, Discord need the member picked
    # from their own list, or an id): the @ is dropped so the post shows a name, not a broken mention.
    typed_mentions: ClassVar[bool] = True
    # What the channel accepts of an attached image (None: no known limit); the sources are beside
    # each channel's values.
    image_max_bytes: ClassVar[int | None] = None
    image_max_pixels: ClassVar[int | None] = None
    # Width / height from narrowest to widest; outside it the channel refuses the image.
    image_aspect: ClassVar[tuple[float, float] | None] = None

    # ---- counting --------------------------------------------------------------------------
    def length(self, text: str) -> int:
        return len(text)

    # ---- shaping ---------------------------------------------------------------------------
    def hashtag(self, word: str) -> str:
        parts = [p for p in _HASHTAG_CLEAN.split(word) if p]
        if self.hashtag_style == "tags":
            return "".join(parts).lower()
        return "".join(p[:1].upper() + p[1:] for p in parts)

    def hashtags_for(self, tags: list[str]) -> list[str]:
        seen, result = set(), []
        for tag in tags:
            value = self.hashtag(tag)
            if value and value.lower() not in seen:
                seen.add(value.lower())
                result.append(value)
        if self.max_hashtags is not None:
            result = result[: self.max_hashtags]
        return result

    def generate(self, content) -> VersionDraft:
        hashtags = self.hashtags_for(list(content.tags or []))
        cta_url = content.link_url or ""
        draft = VersionDraft(
            title=content.title if self.uses_title else "",
            hashtags=hashtags if self.hashtag_style != "none" else [],
            cta_text=self.default_cta_text if cta_url else "",
            cta_url=cta_url,
        )
        draft.body = self.fit(self.lead(content), draft)
        return draft

    def lead(self, content) -> str:
        """The text a short-form channel starts from: the summary, else the body as plain text, with
        links and @mentions as the channel handles them."""
        if self.markdown:
            return content.body
        text = content.summary or markdown_to_text(content.body, links=self.clickable_links)
        text = text if self.uses_title or not content.title else f"{content.title}\n\n{text}".strip()
        if not self.clickable_links:
            text = re.sub(r"[ \t]*\(?" + URL.pattern + r"\)?", "", text, flags=re.IGNORECASE)
        return self.mentions_in(text)

    def mentions_in(self, text: str) -> str:
        """Keep the @mentions the channel links, up to its limit; the others become plain names."""
        if not self.typed_mentions:
            return _HANDLE.sub(r"\1", text)
        if self.max_mentions is None:
            return text
        seen = []

        def keep(match):
            seen.append(match)
            return match.group(0) if len(seen) <= self.max_mentions else match.group(1)

        return _HANDLE.sub(keep, text)

    def fit(self, text: str, draft: VersionDraft) -> str:
        """Shorten `text` on a word boundary so the whole rendered post fits the channel."""
        if self.max_length is None:
            return text
        draft.body = text
        overflow = self.length(self.render(draft)) - self.max_length
        if overflow <= 0:
            return text
        budget = max(len(text) - overflow - 1, 0)
        while budget > 0:
            cut = text[:budget].rsplit(" ", 1)[0].rstrip(" ,.;:") + "…"
            draft.body = cut
            if self.length(self.render(draft)) <= self.max_length:
                return cut
            budget -= max(1, self.length(self.render(draft)) - self.max_length)
        return ""

    # ---- how the post will read ----------------------------------------------------------------
    def render(self, version) -> str:
        """The exact text the channel receives (and the preview shows)."""
        parts = []
        if version.title and self.uses_title and not self.markdown:
            parts.append(version.title)
        if version.body:
            parts.append(version.body)
        if not self.clickable_links:
            if version.cta_text:
                parts.append(version.cta_text)
        elif version.cta_url:
            parts.append(f"{version.cta_text}: {version.cta_url}" if version.cta_text else version.cta_url)
        if version.hashtags and self.hashtag_style == "inline":
            parts.append(" ".join(f"#{tag}" for tag in version.hashtags))
        if version.mentions:
            parts.append(" ".join(m if m.startswith("@") else f"@{m}" for m in version.mentions))
        return "\n\n".join(parts)

    # ---- validation ----------------------------------------------------------------------------
    def validate(self, version, *, media_count: int = 0) -> list[str]:
        errors = []
        text = self.render(version)
        if not text.strip():
            errors.append(f"{self.label}: the post is empty.")
        if self.max_length is not None:
            used = self.length(text)
            if used > self.max_length:
                errors.append(f"{self.label}: {used} characters, the limit is {self.max_length}.")
        if self.max_hashtags is not None and len(version.hashtags) > self.max_hashtags:
            errors.append(f"{self.label}: {len(version.hashtags)} hashtags, at most {self.max_hashtags} allowed.")
        if version.mentions and not self.typed_mentions:
            errors.append(f"{self.label}: a typed @mention links nobody here; name them in the text instead.")
        if self.max_mentions is not None and len(version.mentions) > self.max_mentions:
            errors.append(f"{self.label}: {len(version.mentions)} mentions, at most {self.max_mentions} allowed.")
        if self.requires_media and media_count == 0:
            errors.append(f"{self.label}: a post needs at least one image or video.")
        if self.uses_title and not version.title.strip():
            errors.append(f"{self.label}: a title is required.")
        if version.cta_url and not version.cta_text and self.hashtag_style == "tags":
            errors.append(f"{self.label}: the call-to-action link needs a text.")
        return errors


_FORMATTERS: dict[str, type[ChannelFormatter]] = {}


def register(cls: type[ChannelFormatter]) -> type[ChannelFormatter]:
    if cls.key in _FORMATTERS and _FORMATTERS[cls.key] is not cls:
        raise ValueError(f"Formatter {cls.key!r} is registered twice")
    _FORMATTERS[cls.key] = cls
    return cls


def registered() -> dict[str, type[ChannelFormatter]]:
    return _FORMATTERS
