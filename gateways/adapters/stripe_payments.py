"""Stripe (https://docs.stripe.com/api): customers and charges read page by page, and the webhook
signing secrets kept with the account's API key.

Plain HTTP through the gateways client rather than the `stripe` library: its requests would bypass
the address guard, the secret redaction and the error mapping every other adapter shares, and a list
call is three query parameters. Lists are cursor pages: `limit` (at most 100), `starting_after` (the
last id seen) and `has_more`; `created[gte]` narrows them to recent objects.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import ClassVar

from gateways.adapters._http import HttpAdapterMixin
from gateways.capabilities import PaymentCharge, PaymentCustomer, PaymentPage, PaymentsAdapter, register
from gateways.errors import ProviderUnavailable

# Pinned so the objects keep the fields read here: 2025-03-31.basil took `invoice` off the charge.
STRIPE_VERSION = "2024-06-20"


def _when(value) -> datetime | None:
    return datetime.fromtimestamp(int(value), tz=UTC) if isinstance(value, int) else None


def _text(value) -> str:
    """An id field, which Stripe expands into the object itself when asked to."""
    if isinstance(value, dict):
        return str(value.get("id") or "")
    return str(value or "")


@register
class StripePaymentsAdapter(HttpAdapterMixin, PaymentsAdapter):
    key = "stripe"
    label = "Stripe"
    secret_parameters = ("secret_key", "webhook_signing_secret", "previous_webhook_signing_secret")
    webhook_secret_parameters = ("webhook_signing_secret", "previous_webhook_signing_secret")
    default_base_url = "https://api.stripe.com"
    # Stripe allows 100 read requests per second in live mode and 25 in test mode: the lower one.
    default_rate_limit: ClassVar[tuple[int, float]] = (25, 1.0)
    credentials_advice = ("Stripe answers {status}: the secret API key is wrong, revoked or restricted; "
                          "enter a key that may read customers and charges in Provider accounts.")

    def http_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.credential('secret_key')}", "Stripe-Version": STRIPE_VERSION}

    def _page(self, path: str, *, after: str, created_since: datetime | None) -> tuple[list[dict], bool]:
        params: dict[str, str | int] = {"limit": self.page_size}
        if after:
            params["starting_after"] = after
        if created_since is not None:
            params["created[gte]"] = int(created_since.timestamp())
        answer = self.http.request_json("GET", self.url(path), params=params)
        data = answer.get("data")
        if answer.get("object") != "list" or not isinstance(data, list):
            raise ProviderUnavailable(f"Stripe answered {path} with something other than a list",
                                      provider=self.name)
        return [item for item in data if isinstance(item, dict) and item.get("id")], bool(answer.get("has_more"))

    def list_customers(self, *, after: str = "", created_since: datetime | None = None) -> PaymentPage:
        items, has_more = self._page("/v1/customers", after=after, created_since=created_since)
        customers = [PaymentCustomer(id=str(item["id"]), email=str(item.get("email") or ""),
                                     name=str(item.get("name") or ""), created=_when(item.get("created")))
                     for item in items]
        return PaymentPage(items=customers, has_more=has_more, cursor=customers[-1].id if customers else "")

    def list_charges(self, *, after: str = "", created_since: datetime | None = None) -> PaymentPage:
        items, has_more = self._page("/v1/charges", after=after, created_since=created_since)
        charges = [self._charge(item) for item in items]
        return PaymentPage(items=charges, has_more=has_more, cursor=charges[-1].id if charges else "")

    def _charge(self, item: dict) -> PaymentCharge:
        billing = item.get("billing_details") or {}
        captured = item.get("amount_captured")
        return PaymentCharge(
            id=str(item["id"]),
            amount=int(captured if isinstance(captured, int) and captured else item.get("amount") or 0),
            currency=str(item.get("currency") or ""),
            succeeded=item.get("status") == "succeeded" and bool(item.get("paid")),
            amount_refunded=int(item.get("amount_refunded") or 0),
            customer_id=_text(item.get("customer")),
            email=str(item.get("receipt_email") or billing.get("email") or ""),
            name=str(billing.get("name") or ""),
            payment_intent=_text(item.get("payment_intent")),
            invoice=_text(item.get("invoice")),
            created=_when(item.get("created")),
        )

    def probe(self):
        def balance() -> str:
            answer = self.http.request_json("GET", self.url("/v1/balance"))
            mode = "live mode" if answer.get("livemode") else "test mode"
            currencies = sorted({str(entry.get("currency", "")).upper() for entry in answer.get("available") or []
                                 if isinstance(entry, dict)})
            return f"balance readable ({mode}{', ' + ', '.join(currencies) if currencies else ''})"

        return self.timed_probe(balance)
