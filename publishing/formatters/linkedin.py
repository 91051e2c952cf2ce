from publishing.formatters.base import ChannelFormatter, register


@register
class LinkedInFormatter(ChannelFormatter):
    key = "linkedin"
    label = "LinkedIn"
    max_length = 3000
    # LinkedIn Images API: at most 36,152,320 pixels.
    image_max_pixels = 36_152_320
    max_hashtags = 5
    typed_mentions = False
