"""Amazon SNS messages posted to our HTTP endpoint: their signature checked against the signing
certificate, and subscriptions confirmed (https://docs.aws.amazon.com/sns/latest/dg/sns-verify-signature-of-message.html).

- The certificate must come from SNS itself: SigningCertURL https, on sns.<region>.amazonaws.com, a
  .pem file. It is fetched through the guarded HTTP client and cached (the URL names one certificate).
- SignatureVersion 1 signs with RSA and SHA-1, version 2 with SHA-256, both PKCS#1 v1.5, over the
  message's fields as "Name\\nValue\\n" in a fixed order that depends on the message's type.
- A message is refused when its Timestamp is further from now than the tolerance: a captured message
  cannot be replayed later on. Within it, the caller processes each MessageId once.
- SubscribeURL must be on an SNS host too: confirming would otherwise make us GET any URL a forger
  put in a message.

GATEWAYS_SNS_TEST_ORIGIN (a Django setting only, never read from the environment, forced empty in
production settings): one more origin ("http://127.0.0.1:8123") the certificate and SubscribeURL may
come from, so tests can serve their own certificate. Production accepts SNS hosts only.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import logging
import re
from datetime import UTC, datetime
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from django.conf import settings
from django.core.cache import cache

from aicmo_site.env import env_int
from gateways.errors import GatewayError
from gateways.http import ProviderHttp

logger = logging.getLogger("gateways")

SNS_HOST = re.compile(r"sns\.[a-z]{2}(-[a-z]+)+-\d\.amazonaws\.com(\.cn)?")
NOTIFICATION_FIELDS = ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type")
SUBSCRIPTION_FIELDS = ("Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type")
SUBSCRIPTION_TYPES = ("SubscriptionConfirmation", "UnsubscribeConfirmation")
_HASHES = {"1": hashes.SHA1, "2": hashes.SHA256}
CERTIFICATE_CACHE_SECONDS = 24 * 3600


class SnsMessageInvalid(Exception):  # noqa: N818 - reads as what the message is
    pass


class SnsCertificateUnavailable(SnsMessageInvalid):  # noqa: N818
    """The signing certificate could not be fetched now: the message may be genuine, so the endpoint
    answers 5xx and SNS delivers it again: SNS retries on an answer outside 200-499 or no answer in about
    15 s, and takes any 4xx as delivered (https://docs.aws.amazon.com/sns/latest/dg/SendMessageToHttp.prepare.html)."""


def tolerance_seconds() -> int:
    """How old (or how far ahead) a message's Timestamp may be. A retried delivery is the same message
    with its first Timestamp. SNS's default HTTP/S policy retries only 3 times, 20 s apart
    (https://docs.aws.amazon.com/sns/latest/dg/SendMessageToHttp.retry.html), but a subscription's own
    delivery policy may retry for longer, up to a hard limit of 3,600 s in all
    (https://docs.aws.amazon.com/sns/latest/dg/sns-message-delivery-retries.html): an hour refuses no
    retry any policy can make."""
    return getattr(settings, "GATEWAYS_SNS_TOLERANCE_SECONDS",
                   env_int("GATEWAYS_SNS_TOLERANCE_SECONDS", 3600, minimum=60))


def _test_origin() -> str:
    return str(getattr(settings, "GATEWAYS_SNS_TEST_ORIGIN", "") or "").rstrip("/")


def sns_url_allowed(url: str, *, pem: bool = False) -> bool:
    parts = urlsplit(url)
    origin = _test_origin()
    if origin and f"{parts.scheme}://{parts.netloc}" == origin:
        return not pem or parts.path.endswith(".pem")
    host_ok = parts.scheme == "https" and parts.port in (None, 443) and not parts.username and bool(
        SNS_HOST.fullmatch(parts.hostname or ""))
    return host_ok and (not pem or parts.path.endswith(".pem"))


def string_to_sign(message: dict) -> bytes:
    fields = SUBSCRIPTION_FIELDS if message.get("Type") in SUBSCRIPTION_TYPES else NOTIFICATION_FIELDS
    return "".join(f"{name}\n{message[name]}\n" for name in fields if message.get(name) is not None).encode()


def _client() -> ProviderHttp:
    return ProviderHttp(provider="Amazon SNS", label="Amazon SNS", timeout=10.0)


def _cache_key(url: str) -> str:
    return "gateways:sns-cert:" + hashlib.sha256(url.encode()).hexdigest()


def forget_certificate(url: str) -> None:
    cache.delete(_cache_key(url))


def signing_certificate(url: str) -> x509.Certificate:
    """The certificate at an SNS URL, from the cache when it was fetched before."""
    key = _cache_key(url)
    pem = cache.get(key)
    if pem is None:
        client = _client()
        try:
            pem = client.request("GET", url).content
        except GatewayError as exc:
            raise SnsCertificateUnavailable(f"the signing certificate could not be fetched: {exc.message}")
        finally:
            client.close()
    try:
        certificate = x509.load_pem_x509_certificate(pem)
    except ValueError:
        raise SnsMessageInvalid("the signing certificate is not a PEM certificate")
    cache.set(key, pem, CERTIFICATE_CACHE_SECONDS)
    return certificate


def _timestamp(message: dict) -> datetime:
    try:
        moment = datetime.fromisoformat(str(message["Timestamp"]).replace("Z", "+00:00"))
    except (KeyError, ValueError):
        raise SnsMessageInvalid("the message has no valid Timestamp")
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def verify_message(message: dict, *, now: datetime | None = None) -> None:
    """Raise SnsMessageInvalid unless SNS signed this message recently."""
    if not isinstance(message, dict):
        raise SnsMessageInvalid("the body is not a JSON object")
    kind, version = message.get("Type"), str(message.get("SignatureVersion", ""))
    if kind not in ("Notification", *SUBSCRIPTION_TYPES):
        raise SnsMessageInvalid(f"unknown message type {kind!r}")
    if version not in _HASHES:
        raise SnsMessageInvalid(f"unknown SignatureVersion {version!r}")
    required = SUBSCRIPTION_FIELDS if kind in SUBSCRIPTION_TYPES else tuple(
        name for name in NOTIFICATION_FIELDS if name != "Subject")
    missing = [name for name in (*required, "Signature", "SigningCertURL") if not isinstance(message.get(name), str)]
    if missing:
        raise SnsMessageInvalid(f"the message lacks {', '.join(missing)}")
    if not sns_url_allowed(message["SigningCertURL"], pem=True):
        raise SnsMessageInvalid("SigningCertURL is not an https .pem URL on an SNS host")
    age = abs(((now or datetime.now(UTC)) - _timestamp(message)).total_seconds())
    if age > tolerance_seconds():
        raise SnsMessageInvalid("the message's Timestamp is outside the tolerance")
    try:
        signature = base64.b64decode(message["Signature"], validate=True)
    except (binascii.Error, ValueError):
        raise SnsMessageInvalid("the Signature is not base64")
    certificate = signing_certificate(message["SigningCertURL"])
    moment = now or datetime.now(UTC)
    if not certificate.not_valid_before_utc <= moment <= certificate.not_valid_after_utc:
        raise SnsMessageInvalid("the signing certificate is not valid now")
    public_key = certificate.public_key()
    if not isinstance(public_key, rsa.RSAPublicKey):
        raise SnsMessageInvalid("the signing certificate does not hold an RSA key")
    try:
        public_key.verify(signature, string_to_sign(message), padding.PKCS1v15(), _HASHES[version]())
    except InvalidSignature:
        raise SnsMessageInvalid("the signature does not match the message")


def confirm_subscription(message: dict) -> None:
    """GET the SubscribeURL of a verified SubscriptionConfirmation (only on an SNS host). Raises
    SnsMessageInvalid for any other URL, and a GatewayError when SNS could not be reached."""
    url = str(message.get("SubscribeURL") or "")
    if not sns_url_allowed(url):
        raise SnsMessageInvalid("SubscribeURL is not an https URL on an SNS host")
    client = _client()
    try:
        client.request("GET", url)  # a GatewayError goes to the caller: SNS sends the confirmation again
    finally:
        client.close()
    logger.info("Confirmed the SNS subscription to %s", message.get("TopicArn"))
