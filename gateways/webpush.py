"""Web push (RFC 8030) with encrypted payloads (RFC 8291, aes128gcm) and VAPID (RFC 8292).

pywebpush encrypts the payload for the subscription's keys; py_vapid signs the VAPID token. The request
itself goes through the gateways HTTP client, not pywebpush's own session, so a subscription's endpoint
(a URL a browser handed us) passes the same address guard, timeouts and error mapping as every provider.
A push service answers 201 when it took the message; 404 and 410 mean the subscription is gone for good.
"""

from __future__ import annotations

import base64
import json
import time
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import urlsplit

from cryptography.hazmat.primitives import serialization
from django.conf import settings
from django.db import IntegrityError, transaction
from py_vapid import Vapid02
from pywebpush import WebPusher

from gateways.crypto import decrypt_json, encrypt_json
from gateways.errors import GatewayError, ProviderRejected
from gateways.http import ProviderHttp
from gateways.models import VapidKeys

LABEL = "Push service"
# A VAPID token may live 24 hours (RFC 8292 §2); 12 leaves room for clock skew.
TOKEN_SECONDS = 12 * 3600


@dataclass(frozen=True)
class PushTarget:
    endpoint: str
    p256dh: str
    auth: str


@dataclass(frozen=True)
class PushReceipt:
    status: int
    location: str  # the push service's URL of the message, when it gives one


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def vapid_keys() -> VapidKeys:
    """The installation's keys, made on first use; two processes racing both end up with the same row."""
    found = VapidKeys.objects.filter(pk=1).first()
    if found is not None:
        return found
    vapid = Vapid02()
    vapid.generate_keys()
    public = vapid.public_key.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    try:
        with transaction.atomic():
            return VapidKeys.objects.create(pk=1, public_key=_b64url(public),
                                            private_key=encrypt_json({"pem": vapid.private_pem().decode()}))
    except IntegrityError:
        return VapidKeys.objects.get(pk=1)


def vapid_public_key() -> str:
    return vapid_keys().public_key


@lru_cache(maxsize=4)
def _signer(encrypted: str) -> Vapid02:
    return Vapid02.from_pem(decrypt_json(encrypted)["pem"].encode())


def _subject() -> str:
    """Who the push services may contact about our traffic (RFC 8292 §2.1): a mailto: or https: URL."""
    configured = getattr(settings, "WEBPUSH_SUBJECT", "") or ""
    return configured or f"mailto:{settings.DEFAULT_FROM_EMAIL}"


def _push_error(response) -> GatewayError | None:
    if response.status_code in (404, 410):
        return ProviderRejected(f"{LABEL} answered {response.status_code}: the subscription has expired or was "
                                "withdrawn", status=response.status_code, details={"gone": True},
                                advice="The browser unsubscribed; the subscription is removed.")
    if response.status_code == 413:
        return ProviderRejected(f"{LABEL} answered 413: the message is too large (4 kB at most)",
                                status=413, advice="Shorten the notification.")
    return None


def push_send(target: PushTarget, payload: dict, *, ttl: int = 86400, timeout: float = 10.0) -> PushReceipt:
    """Encrypt `payload` (JSON) for the subscription and hand it to its push service. Raises
    ProviderRejected (details["gone"] for 404/410), RateLimited, ProviderUnavailable or OutcomeUnknown."""
    keys = vapid_keys()
    body = WebPusher({"endpoint": target.endpoint, "keys": {"p256dh": target.p256dh, "auth": target.auth}}).encode(
        json.dumps(payload).encode(), "aes128gcm")["body"]
    parts = urlsplit(target.endpoint)
    claims = {"sub": _subject(), "aud": f"{parts.scheme}://{parts.netloc}", "exp": int(time.time()) + TOKEN_SECONDS}
    headers = {"Content-Encoding": "aes128gcm", "Content-Type": "application/octet-stream", "TTL": str(ttl),
               "Urgency": "normal", **_signer(keys.private_key).sign(claims)}
    http = ProviderHttp(provider="web push", label=LABEL, timeout=timeout, error_hook=_push_error)
    try:
        response = http.request("POST", target.endpoint, data=body, headers=headers)
    finally:
        http.close()
    return PushReceipt(status=response.status_code, location=response.headers.get("Location", ""))
