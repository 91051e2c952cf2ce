from publishing.formatters.base import URL, ChannelFormatter, register

# twitter-text v3: these code points weigh 1, every other one 2; a URL weighs 23 whatever its length.
_LIGHT_RANGES = ((0, 4351), (8192, 8205), (8208, 8223), (8242, 8247))
URL_WEIGHT = 23


def _weight(char: str) -> int:
    point = ord(char)
    return 1 if any(low <= point <= high for low, high in _LIGHT_RANGES) else 2


@register
class XFormatter(ChannelFormatter):
    key = "x"
    label = "X (Twitter)"
    max_length = 280
    # X media upload docs: images up to 5 MB. They set no shape for images (only videos, 1:2.39 to 2.39:1):
    # X scales an image to its frame, so none is cropped here.
    image_max_bytes = 5 * 1024 * 1024
    max_hashtags = 3

    def length(self, text: str) -> int:
        total, position = 0, 0
        for match in URL.finditer(text):
            total += sum(_weight(c) for c in text[position:match.start()]) + URL_WEIGHT
            position = match.end()
        return total + sum(_weight(c) for c in text[position:])
