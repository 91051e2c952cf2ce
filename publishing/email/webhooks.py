"""Verifying inbound provider events signed the Standard Webhooks way (PROVIDERS.md §9).

Signed string: "{webhook-id}.{webhook-timestamp}.{raw body}", HMAC-SHA256 with the base64-decoded
bytes after "whsec_"; the signature header holds space-separated "v1,<base64>" entries (rotation).
Timestamps more than the tolerance away from now, in either direction, are refused.
"""

import base64
import binascii
import hashlib
import hmac
import time


class SignatureInvalid(Exception):
    pass


def secret_key_bytes(secret: str) -> bytes:
    encoded = secret.removeprefix("whsec_")
    try:
        return base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise SignatureInvalid("the configured webhook secret is not whsec_ followed by base64")


def sign(*, secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    signed = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret_key_bytes(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def verify(*, secret: str, headers, body: bytes, tolerance: int = 300, now: float | None = None) -> str:
    """Return the event id when the signature is genuine and fresh; raise SignatureInvalid otherwise."""
    if not secret:
        raise SignatureInvalid("no webhook secret is configured")
    msg_id = headers.get("webhook-id", "")
    raw_timestamp = headers.get("webhook-timestamp", "")
    signatures = headers.get("webhook-signature", "")
    if not (msg_id and raw_timestamp and signatures):
        raise SignatureInvalid("missing webhook-id, webhook-timestamp or webhook-signature")
    try:
        timestamp = int(raw_timestamp)
    except ValueError:
        raise SignatureInvalid("webhook-timestamp is not a number")
    current = time.time() if now is None else now
    if abs(current - timestamp) > tolerance:
        raise SignatureInvalid("webhook-timestamp is outside the tolerance")
    expected = sign(secret=secret, msg_id=msg_id, timestamp=timestamp, body=body).encode()
    for candidate in signatures.split():
        if hmac.compare_digest(candidate.encode(), expected):
            return msg_id
    raise SignatureInvalid("no signature matches")
