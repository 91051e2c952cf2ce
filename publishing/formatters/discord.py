from publishing.formatters.base import ChannelFormatter, register


@register
class DiscordFormatter(ChannelFormatter):
    key = "discord"
    label = "Discord"
    max_length = 2000
    hashtag_style = "none"
    typed_mentions = False
