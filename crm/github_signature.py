"""Verifying GitHub's webhook signatures
(https://docs.github.com/en/webhooks/using-webhooks/validating-webhook-deliveries).

X-Hub-Signature-256 is "sha256=" and the hex HMAC-SHA256 of the raw body keyed with the webhook's secret.
GitHub signs with no timestamp, so a replay is refused by the delivery id (X-GitHub-Delivery) instead.
"""

import hashlib
import hmac


class SignatureInvalid(Exception):
    pass


def sign(*, secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify(*, secrets: list[str], header: str, body: bytes) -> None:
    """Accepts a signature made with any of `secrets` (two while the webhook's secret is changed)."""
    secrets = [secret for secret in secrets if secret]
    if not secrets:
        raise SignatureInvalid("no GitHub webhook secret is configured")
    if not header.startswith("sha256="):
        raise SignatureInvalid("X-Hub-Signature-256 is missing or not a sha256 signature")
    if not any(hmac.compare_digest(sign(secret=secret, body=body), header) for secret in secrets):
        raise SignatureInvalid("no signature matches")
