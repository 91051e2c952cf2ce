from publishing.formatters.base import ChannelFormatter, register


@register
class TelegramFormatter(ChannelFormatter):
    key = "telegram"
    label = "Telegram"
    max_length = 4096
    # Telegram Bot API sendPhoto: a photo of at most 10 MB, sides up to a ratio of 20.
    image_max_bytes = 10 * 1024 * 1024
    image_aspect = (0.05, 20.0)
