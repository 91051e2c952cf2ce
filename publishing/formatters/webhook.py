from publishing.formatters.base import ChannelFormatter, register


@register
class WebhookFormatter(ChannelFormatter):
    key = "webhook"
    label = "Webhook"
    hashtag_style = "tags"
    uses_title = True
