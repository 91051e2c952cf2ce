from publishing.formatters.base import ChannelFormatter, register


@register
class InstagramFormatter(ChannelFormatter):
    key = "instagram"
    label = "Instagram"
    max_length = 2200
    max_hashtags = 30
    max_mentions = 20
    requires_media = True
    # Links in captions are not clickable; the call to action points to the profile link instead.
    default_cta_text = "Link in bio"

    def render(self, version) -> str:
        parts = [version.body] if version.body else []
        if version.cta_text:
            parts.append(version.cta_text)
        if version.hashtags:
            parts.append(" ".join(f"#{tag}" for tag in version.hashtags))
        if version.mentions:
            parts.append(" ".join(m if m.startswith("@") else f"@{m}" for m in version.mentions))
        return "\n\n".join(parts)
