"""Stripe events into the CRM: customers become contacts, payments conversions, refunds negative ones.

Each Stripe event id is applied once (a unique StripeEvent row, taken in the same transaction as its
effects). Amounts arrive in the currency's smallest unit; the conversion value is in the major unit and
the currency is kept in the event's detail.
"""

from decimal import Decimal

from django.db import IntegrityError, transaction

from aicmo_site.errors import DomainError
from crm.choices import EventKind
from crm.models import Contact, StripeEvent
from crm.services.contacts import contact_create, email_normalise
from crm.services.engagement import contact_record_event
from crm.services.value_tiers import value_tiers_recompute

STRIPE_SOURCE = "stripe"
HANDLED_TYPES = (
    "checkout.session.completed",
    "invoice.paid",
    "charge.refunded",
    "customer.created",
    "customer.updated",
)
# https://docs.stripe.com/currencies#zero-decimal : amounts in these are already whole units.
ZERO_DECIMAL = frozenset(
    {"bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga", "pyg", "rwf", "ugx", "vnd", "vuv", "xaf", "xof", "xpf"}
)


def _amount(minor: int, currency: str) -> Decimal:
    whole = Decimal(int(minor))
    return whole if currency.lower() in ZERO_DECIMAL else whole / 100


def _contact_for(*, customer_id: str, email: str, name: str = "") -> Contact | None:
    """The contact with this Stripe customer id, else the one with this email (created when new)."""
    if customer_id:
        contact = Contact.objects.filter(stripe_customer_id=customer_id).first()
        if contact:
            return contact
    if not email:
        return None
    try:
        email = email_normalise(email)
    except DomainError:
        return None
    contact = Contact.objects.select_for_update().filter(email=email).first()
    if contact is None:
        first, _, last = (name or "").strip().partition(" ")
        contact = contact_create(
            email=email, first_name=first[:120], last_name=last[:120], source=STRIPE_SOURCE, field_source=STRIPE_SOURCE
        )
    if customer_id and contact.stripe_customer_id != customer_id:
        contact.stripe_customer_id = customer_id
        contact.save(update_fields=["stripe_customer_id", "updated_at"])
    return contact


def _payment(*, event: dict, obj: dict, contact: Contact, amount: Decimal, currency: str) -> None:
    contact_record_event(
        contact=contact,
        kind=EventKind.CONVERTED,
        value=amount,
        channel=STRIPE_SOURCE,
        source_kind=STRIPE_SOURCE,
        source_id=str(obj.get("id", "")),
        detail={"currency": currency.lower(), "stripe_event": event["id"], "stripe_type": event["type"]},
    )


def _customer_email(obj: dict) -> str:
    details = obj.get("customer_details") or obj.get("billing_details") or {}
    return str(obj.get("customer_email") or obj.get("receipt_email") or details.get("email") or obj.get("email") or "")


def _apply(event: dict) -> Contact | None:
    kind, obj = event["type"], (event.get("data") or {}).get("object") or {}
    if kind in ("customer.created", "customer.updated"):
        return _contact_for(
            customer_id=str(obj.get("id", "")), email=str(obj.get("email") or ""), name=str(obj.get("name") or "")
        )
    customer_id = str(obj.get("customer") or "")
    currency = str(obj.get("currency") or "")
    if kind == "checkout.session.completed":
        # An asynchronous payment (bank debit) completes the session unpaid: not money yet.
        # A subscription's or an invoiced session's money is counted once, by its invoice.paid.
        if obj.get("payment_status") != "paid" or obj.get("mode") == "subscription" or obj.get("invoice"):
            return None
        minor = obj.get("amount_total") or 0
    elif kind == "invoice.paid":
        minor = obj.get("amount_paid") or 0
    else:  # charge.refunded: amount_refunded is cumulative, so only what this refund added is subtracted.
        previous = ((event.get("data") or {}).get("previous_attributes") or {}).get("amount_refunded") or 0
        minor = -(int(obj.get("amount_refunded") or 0) - int(previous))
    if not minor:
        return None
    contact = _contact_for(customer_id=customer_id, email=_customer_email(obj))
    if contact is None:
        return None
    _payment(event=event, obj=obj, contact=contact, amount=_amount(minor, currency), currency=currency)
    value_tiers_recompute(contact_ids=[contact.pk])
    return contact


def stripe_event_apply(*, event: dict) -> bool:
    """Applies a verified Stripe event; False when it was applied before or is not a handled type."""
    if not isinstance(event, dict) or not isinstance(event.get("id"), str) or event.get("type") not in HANDLED_TYPES:
        return False
    try:
        with transaction.atomic():
            row = StripeEvent.objects.create(event_id=event["id"], type=event["type"])
            contact = _apply(event)
            if contact is not None:
                row.contact = contact
                row.save(update_fields=["contact"])
    except IntegrityError:
        if StripeEvent.objects.filter(event_id=event["id"]).exists():
            return False
        raise
    return True
