from publishing.formatters.base import ChannelFormatter, register


@register
class TelegramFormatter(ChannelFormatter):
    key = "telegram"
    label = "Telegram"
    max_length = 4096
