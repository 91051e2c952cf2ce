from publishing.formatters.base import ChannelFormatter, register


@register
class MastodonFormatter(ChannelFormatter):
    key = "mastodon"
    label = "Mastodon"
    # The instance may allow more (GET /api/v2/instance); 500 is the default.
    max_length = 500
