"""Phone numbers as text messages need them: E.164."""

import re

from django.db.models import Case, F, Value, When
from django.db.models.functions import Concat, Replace, Substr

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


def phone_e164_expression():
    """phone_e164 in SQL, for filtering and joining on a contact's number: separators removed, 00 read as +.
    A result that is not E.164 matches no consent row, which is all it is compared with."""
    expression = F("phone")
    for separator in SEPARATORS:
        expression = Replace(expression, Value(separator), Value(""))
    return Case(When(phone__startswith="00", then=Concat(Value("+"), Substr(expression, 3))), default=expression)
