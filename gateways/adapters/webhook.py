"""A generic outbound webhook signed per Standard Webhooks v1 (PROVIDERS.md §9).

webhook-id is the post's idempotency key, so a receiver drops a retried delivery it already has.
Redirects are never followed (a 3xx is a failure), and 410 means the receiver asks us to stop.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import time
from datetime import UTC, datetime

import requests

from gateways.adapters._http import HttpAdapterMixin, not_probed
from gateways.capabilities import ChannelPost, ChannelPostingAdapter, PublishedPost, register
from gateways.errors import GatewayError, ProviderRejected, ProviderUnavailable, RateLimited
from gateways.http import retry_after_seconds

SECRET_PREFIX = "whsec_"
SLOW_DOWN = {429, 502, 504}
EVENT_TYPE = "content.published"


def secret_key(secret: str) -> bytes:
    """The HMAC key: the base64-decoded bytes after the whsec_ prefix."""
    encoded = secret.strip().removeprefix(SECRET_PREFIX)
    try:
        return base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("a signing secret is whsec_ followed by base64")


def signature(secrets: list[str], msg_id: str, timestamp: int, body: bytes) -> str:
    """Space-separated v1 signatures, one per secret, so a receiver can rotate its secret."""
    signed = f"{msg_id}.{timestamp}.".encode() + body
    return " ".join(
        "v1," + base64.b64encode(hmac.new(secret_key(s), signed, hashlib.sha256).digest()).decode()
        for s in secrets
    )


@register
class WebhookPostingAdapter(HttpAdapterMixin, ChannelPostingAdapter):
    key = "webhook"
    probeable = False
    label = "Webhook"
    channel = "webhook"
    parameters = ("url", "event_type")
    secret_parameters = ("signing_secret",)
    # Receivers drop a delivery whose webhook-id they already have (Standard Webhooks), so retrying is safe.
    honours_idempotency_key = True

    def http_headers(self) -> dict[str, str]:
        return {"Content-Type": "application/json"}

    def http_error(self, response: requests.Response) -> GatewayError | None:
        status = response.status_code
        if status == 410:
            return ProviderRejected("Webhook answered 410: endpoint gone", status=status,
                                    advice="The receiver asks us to stop; disable this account or fix its URL.")
        if status in SLOW_DOWN:
            return RateLimited(f"Webhook answered {status}: slow down", status=status,
                               retry_after=retry_after_seconds(response),
                               advice="The receiver is overloaded; the delivery will be retried later.")
        return None

    def endpoint(self) -> str:
        """The receiver's URL: the `url` setting, or the account's base URL."""
        return self.base_url if self.base_url and not self.settings.get("url") else self.setting("url")

    def payload(self, post: ChannelPost) -> bytes:
        data = {"text": post.text, "title": post.title, "link_url": post.link_url, "tags": post.tags,
                "media_urls": post.media_urls, "canonical_url": post.canonical_url, **post.extra.get("data", {})}
        event = {"type": self.settings.get("event_type") or EVENT_TYPE,
                 "timestamp": datetime.now(UTC).isoformat(timespec="seconds"), "data": data}
        return json.dumps(event, separators=(",", ":"), ensure_ascii=False).encode()

    def publish(self, post: ChannelPost) -> PublishedPost:
        secrets = self.credential("signing_secret").split()
        body = self.payload(post)
        timestamp = int(time.time())
        try:
            signed = signature(secrets, post.idempotency_key, timestamp, body)
        except ValueError as exc:
            raise ProviderUnavailable(f"Webhook: {exc}", provider=self.name,
                                      advice="Enter the signing secret as whsec_… in Provider accounts.")
        headers = {"webhook-id": post.idempotency_key, "webhook-timestamp": str(timestamp),
                   "webhook-signature": signed}
        response = self.http.request("POST", self.endpoint(), data=body, headers=headers, follow_redirects=False)
        return PublishedPost(status="published", provider=self.name, external_id=post.idempotency_key,
                             raw={"status": response.status_code})

    def probe(self):
        return not_probed("a webhook cannot be checked without delivering an event")
