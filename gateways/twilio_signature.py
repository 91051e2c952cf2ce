"""Verifying Twilio's webhook signatures (https://www.twilio.com/docs/usage/webhooks/webhooks-security).

X-Twilio-Signature is base64(HMAC-SHA1(auth token, URL + each POST parameter's name and value, sorted by
name, with no separators)). The URL is the one Twilio called, query string included, so the endpoint
rebuilds it from PUBLIC_BASE_URL rather than from the Host header a proxy may rewrite. Twilio adds no
timestamp to form webhooks: a replay is harmless because what they do is idempotent (a consent set to
what it already is, a delivery status that only moves forward).
"""

import base64
import hashlib
import hmac
from collections.abc import Iterable


class SignatureInvalid(Exception):
    pass


def sign(*, secret: str, url: str, params: Iterable[tuple[str, str]]) -> str:
    # Repeated names are kept, ordered by name then value, as Twilio's own validators do.
    payload = url + "".join(name + value for name, value in sorted(params))
    return base64.b64encode(hmac.new(secret.encode(), payload.encode(), hashlib.sha1).digest()).decode()


def verify(*, secrets: list[str], header: str, url: str, params: Iterable[tuple[str, str]]) -> None:
    """Accepts a signature made with any of `secrets` (the current and, while it is rolled, the previous
    auth token)."""
    secrets = [secret for secret in secrets if secret]
    if not secrets:
        raise SignatureInvalid("no Twilio auth token is configured")
    if not header:
        raise SignatureInvalid("the request has no X-Twilio-Signature")
    params = list(params)
    if not any(hmac.compare_digest(sign(secret=secret, url=url, params=params), header) for secret in secrets):
        raise SignatureInvalid("the X-Twilio-Signature does not match")
