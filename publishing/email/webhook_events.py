"""What email tells webhook subscribers: sends started and completed, and each email's events, in batches
where it sends in batches."""

from publishing.email.choices import DeliveryStatus, SendStatus
from publishing.email.models import EmailDelivery
from webhooks.events import emit, emit_many, subscribed_events


def email_send_event_emit(email_campaign, *, source: str) -> None:
    """The same events for an email send: started when it leaves draft, completed when every delivery is done."""
    if email_campaign.status == SendStatus.SENDING and source == SendStatus.DRAFT:
        event = "campaign.started"
    elif email_campaign.status == SendStatus.COMPLETED:
        event = "campaign.completed"
    else:
        return
    emit(event, {"campaign_id": email_campaign.campaign_id, "email_send_id": email_campaign.pk, "kind": "email",
                 "status": email_campaign.status, "audience_size": email_campaign.audience_size})


def delivery_payload(delivery: EmailDelivery, email: str) -> dict:
    return {"delivery_id": delivery.pk, "campaign_id": delivery.campaign_id, "contact_id": delivery.contact_id,
            "email": email, "message_id": delivery.message_id}


def email_event_emit(event: str, delivery: EmailDelivery, **extra) -> None:
    emit(event, {**delivery_payload(delivery, delivery.contact.email), **extra})


def emails_sent_emit(delivery_ids: list[int]) -> None:
    """email.sent for the deliveries of one worker batch that were sent: nothing at all (not even a query)
    unless someone subscribed, then one read and one insert for the batch."""
    if "email.sent" not in subscribed_events():
        return
    sent = (EmailDelivery.objects.filter(pk__in=delivery_ids, status=DeliveryStatus.SENT).order_by("pk")
            .values_list("pk", "campaign_id", "contact_id", "contact__email", "message_id", "provider", "sent_at"))
    emit_many("email.sent", [{"delivery_id": pk, "campaign_id": campaign_id, "contact_id": contact_id, "email": email,
                              "message_id": message_id, "provider": provider,
                              "sent_at": sent_at.isoformat() if sent_at else None}
                             for pk, campaign_id, contact_id, email, message_id, provider, sent_at in sent])
