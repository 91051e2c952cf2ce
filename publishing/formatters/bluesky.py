import unicodedata

from publishing.formatters.base import ChannelFormatter, register

_ZERO_WIDTH_JOINER = "\u200d"


def grapheme_count(text: str) -> int:
    """User-perceived characters: combining marks, variation selectors, skin tones and ZWJ sequences
    belong to the character before them (Bluesky's limit counts graphemes, not code points)."""
    count, joined = 0, False
    for char in text:
        point = ord(char)
        extends = (
            unicodedata.combining(char)
            or 0xFE00 <= point <= 0xFE0F
            or 0x1F3FB <= point <= 0x1F3FF
            or 0xE0020 <= point <= 0xE007F
            or char == _ZERO_WIDTH_JOINER
        )
        if not extends and not joined:
            count += 1
        joined = char == _ZERO_WIDTH_JOINER
    return count


@register
class BlueskyFormatter(ChannelFormatter):
    key = "bluesky"
    label = "Bluesky"
    max_length = 300
    # app.bsky.embed.images lexicon: an image blob of at most 1,000,000 bytes.
    image_max_bytes = 1_000_000

    def length(self, text: str) -> int:
        return grapheme_count(text)
