"""Signed tokens of tracking and unsubscribe links.

A token carries a delivery (and, for clicks, a link) and an HMAC of them under SECRET_KEY with a
salt per purpose, so an open token cannot serve as a click or unsubscribe token, and changing the
delivery to someone else's breaks the signature. Tokens never expire: an old email's links must keep
working (and unsubscribing) for years.
"""

import hashlib
import hmac
from dataclasses import dataclass
from functools import lru_cache

from django.conf import settings
from django.core import signing

_SALTS = {"open": "aicmo.email.open", "click": "aicmo.email.click", "unsubscribe": "aicmo.email.unsubscribe"}


@dataclass(frozen=True)
class TokenClaims:
    delivery_id: int
    link_id: int | None = None


def _signer(purpose: str) -> signing.Signer:
    return signing.Signer(salt=_SALTS[purpose], sep=".")


@lru_cache(maxsize=16)
def _keyed_hmac(key_salt: str, secret: str) -> hmac.HMAC:
    """salted_hmac's HMAC before any message: it derives the key from the salt and SECRET_KEY at every
    call, and a message carries about seven signatures (tokens, Message-ID, bounce tag)."""
    return hmac.new(hashlib.sha256(f"{key_salt}{secret}".encode()).digest(), digestmod=hashlib.sha256)


def _salted_hmac(key_salt: str, value: str) -> hmac.HMAC:
    """django.utils.crypto.salted_hmac(key_salt, value, algorithm="sha256"), the derived key kept."""
    mac = _keyed_hmac(key_salt, settings.SECRET_KEY).copy()
    mac.update(value.encode())
    return mac


def signature(salt: str, value: str) -> str:
    """What signing.Signer(salt=salt).signature(value) gives."""
    return signing.b64_encode(_salted_hmac(f"{salt}signer", value).digest()).decode()


def make_token(purpose: str, delivery_id: int, link_id: int | None = None) -> str:
    """What signing.Signer(salt=…, sep=".").sign() gives."""
    value = f"{delivery_id:x}" if link_id is None else f"{delivery_id:x}-{link_id:x}"
    return f"{value}.{signature(_SALTS[purpose], value)}"


def read_token(purpose: str, token: str) -> TokenClaims | None:
    """The claims of a genuine token, or None for anything forged, altered or malformed."""
    try:
        value = _signer(purpose).unsign(token)
    except signing.BadSignature:
        return None
    parts = value.split("-")
    try:
        numbers = [int(part, 16) for part in parts]
    except ValueError:
        return None
    if purpose == "click":
        return TokenClaims(numbers[0], numbers[1]) if len(numbers) == 2 else None
    return TokenClaims(numbers[0]) if len(numbers) == 1 else None


def _bounce_signature(value: str) -> str:
    return _salted_hmac("aicmo.email.bounce", value).hexdigest()[:20]


def make_bounce_tag(delivery_id: int) -> str:
    """The VERP tag of a delivery's return path (bounces+<tag>@...): lower-case hex only, as some
    mail servers change the case of the addresses they report, and an 80-bit HMAC, so a tag cannot
    be made for someone else's delivery to have them suppressed."""
    value = f"{delivery_id:x}"
    return f"{value}-{_bounce_signature(value)}"


def read_bounce_tag(tag: str) -> int | None:
    value, _, signature = tag.strip().lower().partition("-")
    if not value or not hmac.compare_digest(signature.encode(), _bounce_signature(value).encode()):
        return None
    try:
        return int(value, 16)
    except ValueError:
        return None
