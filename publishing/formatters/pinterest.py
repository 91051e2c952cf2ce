from publishing.formatters.base import ChannelFormatter, register


@register
class PinterestFormatter(ChannelFormatter):
    key = "pinterest"
    label = "Pinterest"
    max_length = 500
    # Pinterest pin media: images up to 20 MB.
    image_max_bytes = 20 * 1024 * 1024
    uses_title = True
    requires_media = True
    typed_mentions = False
