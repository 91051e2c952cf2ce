from publishing.formatters.base import ChannelFormatter, register


@register
class SlackFormatter(ChannelFormatter):
    key = "slack"
    label = "Slack"
    # Section text in a block is limited to 3,000 characters.
    max_length = 3000
    hashtag_style = "none"
    typed_mentions = False
