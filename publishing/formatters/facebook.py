from publishing.formatters.base import ChannelFormatter, register


@register
class FacebookFormatter(ChannelFormatter):
    key = "facebook"
    label = "Facebook"
    max_length = 63206
    max_hashtags = 10
    typed_mentions = False
