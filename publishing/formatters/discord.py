from publishing.formatters.base import ChannelFormatter, register


@register
class DiscordFormatter(ChannelFormatter):
    key = "discord"
    label = "Discord"
    max_length = 2000
    # Discord's upload limit without Nitro: 10 MB per file.
    image_max_bytes = 10 * 1024 * 1024
    hashtag_style = "none"
    typed_mentions = False
