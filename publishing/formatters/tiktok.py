from publishing.formatters.base import ChannelFormatter, register


@register
class TikTokFormatter(ChannelFormatter):
    key = "tiktok"
    label = "TikTok"
    max_length = 2000
    requires_media = True
