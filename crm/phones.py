"""Phone numbers as text messages need them: E.164."""

import re

E164 = re.compile(r"^\+[1-9]\d{6,14}$")
SEPARATORS = (" ", "-", ".", "(", ")", "/")


def phone_e164(raw: str) -> str:
    """The number in E.164, or "" when it is not written internationally (+ or 00 and the country code):
    a number without its country cannot be texted safely, so it is not guessed."""
    number = str(raw or "").strip()
    for separator in SEPARATORS:
        number = number.replace(separator, "")
    if number.startswith("00"):
        number = "+" + number[2:]
    return number if E164.match(number) else ""
