"""Verifying Stripe's webhook signatures (https://docs.stripe.com/webhooks#verify-manually).

The Stripe-Signature header is "t=<unix time>,v1=<hex>[,v1=<hex>...]" (several v1 while a secret is
rolled; v0 and other schemes are ignored). Each v1 is HMAC-SHA256 of "{t}.{raw body}" keyed with the
endpoint's signing secret (whsec_..., used as is, not decoded). A timestamp further than the tolerance
from now is refused, which with the once-per-event-id row refuses a replayed request.
"""

import hashlib
import hmac
import time


class SignatureInvalid(Exception):
    pass


def sign(*, secret: str, timestamp: int, body: bytes) -> str:
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def verify(*, secrets: list[str], header: str, body: bytes, tolerance: int = 300, now: float | None = None) -> None:
    """Accepts a signature made with any of `secrets`: while a secret is rolled, Stripe keeps the old one
    working for up to a day, so the account holds both and events pass whichever of them signed."""
    secrets = [secret for secret in secrets if secret]
    if not secrets:
        raise SignatureInvalid("no Stripe signing secret is configured")
    timestamp, signatures = None, []
    for item in header.split(","):
        key, _, value = item.strip().partition("=")
        if key == "t":
            timestamp = value
        elif key == "v1":
            signatures.append(value)
    if timestamp is None or not signatures:
        raise SignatureInvalid("Stripe-Signature has no timestamp or no v1 signature")
    try:
        when = int(timestamp)
    except ValueError:
        raise SignatureInvalid("the Stripe-Signature timestamp is not a number")
    current = time.time() if now is None else now
    if abs(current - when) > tolerance:
        raise SignatureInvalid("the Stripe-Signature timestamp is outside the tolerance")
    expected = [sign(secret=secret, timestamp=when, body=body) for secret in secrets]
    if not any(hmac.compare_digest(mine, candidate) for mine in expected for candidate in signatures):
        raise SignatureInvalid("no signature matches")
