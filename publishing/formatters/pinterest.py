from publishing.formatters.base import ChannelFormatter, register


@register
class PinterestFormatter(ChannelFormatter):
    key = "pinterest"
    label = "Pinterest"
    max_length = 500
    uses_title = True
    requires_media = True
    typed_mentions = False
