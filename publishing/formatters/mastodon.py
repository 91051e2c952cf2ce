from publishing.formatters.base import URL, ChannelFormatter, register

# Mastodon counts every address as 23 characters, whatever its length.
URL_LENGTH = 23


@register
class MastodonFormatter(ChannelFormatter):
    key = "mastodon"
    label = "Mastodon"
    # The instance may allow more (GET /api/v2/instance); 500 is the default.
    max_length = 500
    # Mastodon's default media limits: images up to 16 MB.
    image_max_bytes = 16 * 1024 * 1024

    def length(self, text: str) -> int:
        return len(URL.sub("x" * URL_LENGTH, text))
