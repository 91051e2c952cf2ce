"""Stripe events into the CRM: customers become contacts, payments conversions, refunds negative ones.

Each Stripe event id is applied once (a unique StripeEvent row, taken in the same transaction as its
effects). Amounts arrive in the currency's smallest unit; the conversion value is in the major unit and
the currency is kept in the event's detail.
"""

from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import Sum

from aicmo_site.errors import DomainError
from crm.choices import EventKind
from crm.models import Contact, EngagementEvent, StripeEvent
from crm.services.contacts import contact_create, email_normalise
from crm.services.engagement import contact_record_event
from crm.services.value_tiers import value_tiers_recompute
from gateways.capabilities import PaymentCharge, PaymentCustomer

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


def _locked(contact: Contact) -> None:
    """Serialises the payments of one contact, so a webhook and a backfill recording the same payment at
    the same moment cannot both see it missing."""
    Contact.objects.select_for_update().filter(pk=contact.pk).values_list("pk", flat=True).first()


def _stripe_conversions(contact: Contact):
    return EngagementEvent.objects.filter(contact=contact, kind=EventKind.CONVERTED, source_kind=STRIPE_SOURCE)


def _payment(*, contact: Contact, refs: list[str], amount: Decimal, currency: str, detail: dict,
             occurred_at=None) -> bool:
    """Records a payment unless one of its ids was recorded already. `refs` are the ids Stripe names the
    same payment by (payment intent first, as both a checkout session and its charge carry it; then the
    object's own id and its invoice): a payment seen by a webhook and by a backfill counts once."""
    refs = [ref for ref in dict.fromkeys(refs) if ref]
    _locked(contact)
    # A contact's own payments are few: their ids are compared here rather than through a JSON lookup,
    # which SQLite and PostgreSQL spell differently.
    for source_id, recorded in _stripe_conversions(contact).filter(value__gt=0).values_list("source_id", "detail"):
        if {source_id, *(recorded or {}).get("stripe_refs", [])} & set(refs):
            return False
    contact_record_event(
        contact=contact,
        kind=EventKind.CONVERTED,
        occurred_at=occurred_at,
        value=amount,
        channel=STRIPE_SOURCE,
        source_kind=STRIPE_SOURCE,
        source_id=refs[0],
        detail={"currency": currency.lower(), "stripe_refs": refs, **detail},
    )
    return True


def _refund(*, contact: Contact, charge_id: str, refunded_minor: int, currency: str, detail: dict,
            occurred_at=None) -> bool:
    """Brings what was subtracted for the charge up to its refunded total (Stripe's amount_refunded is
    cumulative), so refunds seen out of order, twice, or by both a webhook and a backfill subtract once."""
    _locked(contact)
    subtracted = -(_stripe_conversions(contact).filter(source_id=charge_id, value__lt=0)
                   .aggregate(total=Sum("value"))["total"] or Decimal(0))
    missing = _amount(refunded_minor, currency) - subtracted
    if missing <= 0:
        return False
    contact_record_event(
        contact=contact,
        kind=EventKind.CONVERTED,
        occurred_at=occurred_at,
        value=-missing,
        channel=STRIPE_SOURCE,
        source_kind=STRIPE_SOURCE,
        source_id=charge_id,
        detail={"currency": currency.lower(), **detail},
    )
    return True


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
    else:
        minor = obj.get("amount_refunded") or 0
    if not minor:
        return None
    contact = _contact_for(customer_id=customer_id, email=_customer_email(obj))
    if contact is None:
        return None
    detail = {"stripe_event": event["id"], "stripe_type": kind}
    if kind == "charge.refunded":
        _refund(contact=contact, charge_id=str(obj.get("id", "")), refunded_minor=int(minor), currency=currency,
                detail=detail)
    else:
        refs = [str(obj.get("payment_intent") or ""), str(obj.get("id", "")), str(obj.get("charge") or "")]
        _payment(contact=contact, refs=refs, amount=_amount(minor, currency), currency=currency, detail=detail)
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


@transaction.atomic
def stripe_customer_record(*, customer: PaymentCustomer) -> Contact | None:
    """A customer read by a backfill, matched or created as customer.created would; None without an email
    or an earlier payment to know it by."""
    return _contact_for(customer_id=customer.id, email=customer.email, name=customer.name)


@transaction.atomic
def stripe_charge_record(*, charge: PaymentCharge) -> tuple[Contact | None, bool, bool]:
    """A charge read by a backfill, recorded as its webhook events would be: (its contact, payment added,
    refund added). Nothing is added when it was recorded before, by a webhook or an earlier backfill, or
    when no money moved. The caller recomputes value tiers once for a page of charges."""
    if not charge.succeeded or not charge.amount:
        return None, False, False
    contact = _contact_for(customer_id=charge.customer_id, email=charge.email, name=charge.name)
    if contact is None:
        return None, False, False
    detail = {"stripe_charge": charge.id, "stripe_type": "backfill"}
    paid = _payment(contact=contact, refs=[charge.payment_intent, charge.id, charge.invoice],
                    amount=_amount(charge.amount, charge.currency), currency=charge.currency, detail=detail,
                    occurred_at=charge.created)
    refunded = bool(charge.amount_refunded) and _refund(
        contact=contact, charge_id=charge.id, refunded_minor=charge.amount_refunded, currency=charge.currency,
        detail=detail, occurred_at=charge.created)
    return contact, paid, refunded
