from publishing.formatters.base import URL, ChannelFormatter, register

# Mastodon counts every address as 23 characters, whatever its length.
URL_LENGTH = 23


@register
class MastodonFormatter(ChannelFormatter):
    key = "mastodon"
    label = "Mastodon"
    # The instance may allow more (GET /api/v2/instance); 500 is the default.
    max_length = 500

    def length(self, text: str) -> int:
        return len(URL.sub("x" * URL_LENGTH, text))
