"""What publishing tells webhook subscribers: jobs, campaigns and emails, in batches where it sends in batches."""

from __future__ import annotations

from collections.abc import Iterable

from publishing.choices import CampaignStatus, JobStatus
from publishing.email.choices import DeliveryStatus, SendStatus
from publishing.email.models import EmailDelivery
from webhooks.events import emit, emit_many, subscribed_events

JOB_EVENTS = {JobStatus.PUBLISHED: "job.published", JobStatus.FAILED: "job.failed"}


def _job_payload(job) -> dict:
    return {"job_id": job.pk, "campaign_id": job.campaign_id, "content_id": job.content_id,
            "channel_id": job.channel_id, "status": job.status, "external_url": job.external_url,
            "external_id": job.external_id, "error": job.error_message,
            "published_at": job.published_at.isoformat() if job.published_at else None}


def jobs_event_emit(jobs: Iterable) -> None:
    """job.published / job.failed for the jobs (of one batch) that just reached those states."""
    by_event: dict[str, list[dict]] = {}
    for job in jobs:
        if job.status in JOB_EVENTS:
            by_event.setdefault(JOB_EVENTS[job.status], []).append(_job_payload(job))
    for event, payloads in by_event.items():
        emit_many(event, payloads)


def campaign_event_emit(campaign, *, source: str) -> None:
    """campaign.started when a campaign first runs (not on resume), campaign.completed when it ends."""
    if campaign.status == CampaignStatus.RUNNING and source != CampaignStatus.PAUSED:
        event = "campaign.started"
    elif campaign.status == CampaignStatus.COMPLETED:
        event = "campaign.completed"
    else:
        return
    emit(event, {"campaign_id": campaign.pk, "name": campaign.name, "kind": "publishing", "status": campaign.status})


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


def _delivery_payload(delivery: EmailDelivery, email: str) -> dict:
    return {"delivery_id": delivery.pk, "campaign_id": delivery.campaign_id, "contact_id": delivery.contact_id,
            "email": email, "message_id": delivery.message_id}


def email_event_emit(event: str, delivery: EmailDelivery, **extra) -> None:
    emit(event, {**_delivery_payload(delivery, delivery.contact.email), **extra})


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
