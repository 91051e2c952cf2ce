"""Manual publishing: for channels whose APIs need app review or a business account (LinkedIn,
Instagram, Facebook, TikTok, YouTube) and any channel without credentials. It prepares a
ready-to-paste draft and answers awaiting_manual: a person posts it and reports the URL. It never
claims a post was published."""

from __future__ import annotations

from gateways.capabilities import (
    ChannelPost,
    ChannelPostingAdapter,
    ProbeResult,
    ProviderKind,
    PublishedPost,
    register,
)

AWAITING_MANUAL = "awaiting_manual"
# Character limits per channel (PROVIDERS.md §7, "Character limits used by a leading scheduler").
CHANNEL_LIMITS = {"": None, "linkedin": 3000, "instagram": 2200, "facebook": 63206, "tiktok": 2000,
                  "youtube": 5000}
MAX_HASHTAGS = {"instagram": 30}
ELLIPSIS = "…"


def hashtags(tags: list[str], channel: str) -> list[str]:
    words = []
    for tag in tags:
        word = "#" + "".join(ch for ch in tag if ch.isalnum() or ch == "_")
        if len(word) > 1 and word.lower() not in {w.lower() for w in words}:
            words.append(word)
    limit = MAX_HASHTAGS.get(channel)
    return words[:limit] if limit else words


def manual_draft(post: ChannelPost, *, channel: str, limit: int | None) -> tuple[str, bool]:
    """The text a person pastes: body, link and hashtags; the body is shortened (never the link or
    tags) when the whole would not fit. Returns the draft and whether it was shortened."""
    body = post.text.strip() or post.title.strip()
    tail = []
    if post.link_url and post.link_url not in body:
        tail.append(post.link_url)
    # The channel formatter usually writes the hashtags into the text already.
    written = {word.lower().rstrip(".,;:!?") for word in body.split() if word.startswith("#")}
    tags = [tag for tag in hashtags(post.tags, channel) if tag.lower() not in written]
    if tags:
        tail.append(" ".join(tags))
    suffix = "".join(f"\n\n{part}" for part in tail)
    if limit is None or len(body) + len(suffix) <= limit:
        return body + suffix, False
    room = max(0, limit - len(suffix) - len(ELLIPSIS))
    cut = body[:room].rsplit(" ", 1)[0] if " " in body[:room] else body[:room]
    return (cut.rstrip() + ELLIPSIS + suffix)[:limit], True


class ManualPublishing(ChannelPostingAdapter):
    parameters = ()
    is_fallback = True
    kind = ProviderKind.MANUAL
    probeable = False

    def publish(self, post: ChannelPost) -> PublishedPost:
        draft, shortened = manual_draft(post, channel=self.channel, limit=self.max_length)
        return PublishedPost(status=AWAITING_MANUAL, provider=self.name, draft=draft,
                             raw={"channel": self.channel, "shortened": shortened})

    def probe(self) -> ProbeResult:
        return ProbeResult(ok=True, detail="nothing to call: a person publishes the draft", latency_ms=0.0)


def _manual_adapter(channel: str, label: str) -> type[ManualPublishing]:
    name = "Manual" + "".join(part.title() for part in channel.split("_")) + "PostingAdapter"
    attrs = {"key": f"manual_{channel}" if channel else "manual", "label": label, "channel": channel,
             "max_length": CHANNEL_LIMITS[channel], "__module__": __name__}
    return register(type(name, (ManualPublishing,), attrs))


ManualPostingAdapter = _manual_adapter("", "Manual publishing")
ManualLinkedinPostingAdapter = _manual_adapter("linkedin", "LinkedIn (manual)")
ManualInstagramPostingAdapter = _manual_adapter("instagram", "Instagram (manual)")
ManualFacebookPostingAdapter = _manual_adapter("facebook", "Facebook (manual)")
ManualTiktokPostingAdapter = _manual_adapter("tiktok", "TikTok (manual)")
ManualYoutubePostingAdapter = _manual_adapter("youtube", "YouTube (manual)")
