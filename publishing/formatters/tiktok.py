from publishing.formatters.base import ChannelFormatter, register


@register
class TikTokFormatter(ChannelFormatter):
    key = "tiktok"
    label = "TikTok"
    max_length = 2000
    requires_media = True
    # Captions show addresses as plain text: the call to action points to the profile link.
    default_cta_text = "Link in bio"
    clickable_links = False
