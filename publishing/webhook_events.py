"""What publishing tells webhook subscribers about jobs and campaigns (emails: publishing.email.webhook_events)."""

from __future__ import annotations

from collections.abc import Iterable

from publishing.choices import CampaignStatus, JobStatus
from webhooks.events import emit, emit_many

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
