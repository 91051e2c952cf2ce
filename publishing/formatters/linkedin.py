from publishing.formatters.base import ChannelFormatter, register


@register
class LinkedInFormatter(ChannelFormatter):
    key = "linkedin"
    label = "LinkedIn"
    max_length = 3000
    max_hashtags = 5
    typed_mentions = False
