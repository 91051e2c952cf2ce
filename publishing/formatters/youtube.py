from publishing.formatters.base import ChannelFormatter, register


@register
class YouTubeFormatter(ChannelFormatter):
    key = "youtube"
    label = "YouTube"
    max_length = 5000
    uses_title = True
    requires_media = True
    max_hashtags = 15
