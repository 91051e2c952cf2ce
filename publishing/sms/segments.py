"""How many SMS segments a text takes (3GPP TS 23.038 and 23.040), as carriers count and bill them.

A text that fits the GSM 7-bit alphabet goes as GSM-7: 160 characters in one message, 153 per segment
once split (the rest of each segment holds the concatenation header). Its extension characters
(^ { } [ ] ~ \\ | € and form feed) are sent as an escape and the character, so they count twice and are
never cut from their escape across two segments. Any other character makes the whole text UCS-2:
70 UTF-16 units in one message, 67 per segment, a character outside the Basic Multilingual Plane (most
emoji) taking two units that stay together.
"""

from dataclasses import dataclass

GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = frozenset("^{}\\[~]|€\f")
LIMITS = {"GSM-7": (160, 153), "UCS-2": (70, 67)}


@dataclass(frozen=True)
class SmsLength:
    encoding: str  # GSM-7 or UCS-2
    units: int  # septets for GSM-7, UTF-16 code units for UCS-2
    segments: int
    per_segment: int  # what one segment holds at this length (160/153 or 70/67)
    # The characters that forced UCS-2, so the editor can say which to replace.
    non_gsm: tuple[str, ...] = ()


def _cost(char: str, encoding: str) -> int:
    if encoding == "GSM-7":
        return 2 if char in GSM7_EXTENSION else 1
    return 2 if ord(char) > 0xFFFF else 1


def sms_length(text: str) -> SmsLength:
    non_gsm = tuple(dict.fromkeys(char for char in text if char not in GSM7_BASIC and char not in GSM7_EXTENSION))
    encoding = "UCS-2" if non_gsm else "GSM-7"
    single, split = LIMITS[encoding]
    costs = [_cost(char, encoding) for char in text]
    units = sum(costs)
    if units == 0:
        return SmsLength(encoding, 0, 0, single, non_gsm)
    if units <= single:
        return SmsLength(encoding, units, 1, single, non_gsm)
    segments, room = 1, split
    for cost in costs:
        if cost > room:  # a pair (escape + character, or a surrogate pair) is never split
            segments, room = segments + 1, split
        room -= cost
    return SmsLength(encoding, units, segments, split, non_gsm)
