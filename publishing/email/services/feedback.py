"""What comes back from an email: opens, clicks, unsubscribes, bounces, complaints and replies.

Each becomes a crm engagement event through crm's services (publishing calls crm, never the reverse)
and first/total counts on the delivery. Provider events and inbox messages are recorded once by id
(InboundEvent), so a replayed webhook or a re-read mailbox changes nothing the second time.
"""

from __future__ import annotations

import logging

from django.db import IntegrityError, transaction
from django.utils import timezone

from crm.choices import EventKind
from crm.models import Contact
from crm.services import contact_record_event, contact_unsubscribe
from publishing.email.choices import DeliveryStatus, InboundEventKind, TrackingHitKind
from publishing.email.models import EmailDelivery, EmailLink, InboundEvent
from publishing.email.services.tracking import Hit, hits_apply
from publishing.email.webhook_events import email_event_emit
from webhooks.events import emit

logger = logging.getLogger("publishing.email")


def _event_source(delivery: EmailDelivery) -> dict:
    return {"campaign_id": delivery.campaign_id, "channel": "email", "source_kind": "delivery",
            "source_id": str(delivery.pk)}


def delivery_record_open(*, delivery: EmailDelivery) -> None:
    """An open applied at once (the demo, tests); the pixel records a hit that the fold applies the same way."""
    hits_apply([Hit(kind=TrackingHitKind.OPEN, delivery_id=delivery.pk, occurred_at=timezone.now())])


def delivery_record_click(*, delivery: EmailDelivery, link: EmailLink) -> None:
    """A click applied at once (the demo, tests); the redirect records a hit that the fold applies the same way."""
    hits_apply([Hit(kind=TrackingHitKind.CLICK, delivery_id=delivery.pk, link_id=link.pk,
                    occurred_at=timezone.now())])


@transaction.atomic
def delivery_unsubscribe(*, delivery: EmailDelivery, source: str = "email:one-click") -> Contact:
    return contact_unsubscribe(contact=delivery.contact, source=f"{source} (campaign {delivery.campaign_id})",
                               reason="Unsubscribed from an email")


def _record_once(*, source: str, event_id: str, kind: str, delivery: EmailDelivery | None, contact: Contact | None,
                 detail: dict) -> bool:
    """True the first time this (source, id) is seen; the savepoint keeps the outer transaction usable."""
    try:
        with transaction.atomic():
            InboundEvent.objects.create(source=source, event_id=event_id, kind=kind, delivery=delivery,
                                        contact=contact, detail=detail)
    except IntegrityError:
        return False
    return True


def _bounce_or_complaint_emit(event: str, delivery: EmailDelivery | None, contact: Contact, **extra) -> None:
    if delivery is not None:
        email_event_emit(event, delivery, **extra)
    else:
        emit(event, {"delivery_id": None, "campaign_id": None, "contact_id": contact.pk, "email": contact.email,
                     **extra})


def delivery_by_message_id(*message_ids: str) -> EmailDelivery | None:
    wanted = [mid.strip() for mid in message_ids if mid and mid.strip()]
    if not wanted:
        return None
    wanted += [f"<{mid.strip('<>')}>" for mid in wanted] + [mid.strip("<>") for mid in wanted]
    return EmailDelivery.objects.select_related("contact").filter(message_id__in=set(wanted)).first()


def _matched(message_ids: tuple[str, ...], email: str, delivery_id: int | None
             ) -> tuple[EmailDelivery | None, Contact | None]:
    """The delivery a message is about and whose it is. A signed return path (delivery_id) or our
    Message-ID is the strongest proof; the reported address decides when it names another contact
    (one report, several recipients); without either, the contact's latest sent delivery stands for
    the campaign."""
    email = email.strip().lower()
    delivery = (EmailDelivery.objects.select_related("contact").filter(pk=delivery_id).first()
                if delivery_id else None) or delivery_by_message_id(*message_ids)
    if delivery is not None and (not email or delivery.contact.email == email):
        return delivery, delivery.contact
    contact = Contact.objects.filter(email=email).first() if email else None
    if contact is None:
        return delivery, delivery.contact if delivery else None
    latest = (EmailDelivery.objects.select_related("contact").filter(contact=contact, status=DeliveryStatus.SENT)
              .order_by("-sent_at", "-pk").first())
    return latest, contact


@transaction.atomic
def inbound_event_apply(*, source: str, event_id: str, kind: str, message_ids: tuple[str, ...] = (),
                        email: str = "", bounce_type: str = "hard", detail: dict | None = None,
                        delivery_id: int | None = None) -> bool:
    """Apply one provider event or inbox message. False when it was seen before or matches no one.
    An auto-reply is only recorded: it says nothing about the person's interest."""
    if kind not in InboundEventKind.values:
        raise ValueError(f"Unknown inbound event kind {kind!r}")
    delivery, contact = _matched(message_ids, email, delivery_id)
    detail = detail or {}
    if kind == InboundEventKind.BOUNCE:
        detail = {**detail, "class": "soft" if bounce_type == "soft" else "hard"}
    if not _record_once(source=source, event_id=event_id, kind=kind, delivery=delivery, contact=contact,
                        detail=detail):
        return False
    if contact is None:
        logger.info("Inbound %s event %s matches no contact", kind, event_id)
        return False
    diagnostic = str(detail.get("diagnostic", ""))[:500]
    source_fields = _event_source(delivery) if delivery else {"channel": "email"}
    if kind == InboundEventKind.BOUNCE:
        contact_record_event(contact=contact, kind=EventKind.BOUNCED, **source_fields,
                             detail={"bounce_type": detail["class"], "diagnostic": diagnostic,
                                     "status": str(detail.get("status", ""))})
        _bounce_or_complaint_emit("email.bounced", delivery, contact, bounce_type=detail["class"],
                                  diagnostic=diagnostic)
    elif kind == InboundEventKind.COMPLAINT:
        contact_record_event(contact=contact, kind=EventKind.COMPLAINED, detail={"diagnostic": diagnostic},
                             **source_fields)
        _bounce_or_complaint_emit("email.complained", delivery, contact, diagnostic=diagnostic)
    elif kind == InboundEventKind.REPLY:
        contact_record_event(contact=contact, kind=EventKind.REPLIED, detail={"subject": detail.get("subject", "")},
                             **source_fields)
    elif kind == InboundEventKind.DELIVERED and delivery:
        contact_record_event(contact=contact, kind=EventKind.DELIVERED, **_event_source(delivery))
    return True
