"""Waking a send's workers: below the services that start, resume or release a send, which all wake it."""

from django.utils import timezone

from publishing.email import conf


def campaign_wake(email_campaign_id: int, *, workers: int | None = None) -> None:
    """Wake the workers of one send. The queue only wakes: deliveries are claimed from the database."""
    from django_q.tasks import async_task

    for _ in range(workers or conf.send_concurrency()):
        async_task("publishing.email.tasks.email_campaign_work", email_campaign_id,
                   task_name=f"email-send-{email_campaign_id}")


def campaign_turn_queue(email_campaign_id: int) -> bool:
    """Queue the next turn of a send fed by journeys, unless one is queued and not yet started: every
    runner batch with an email step asks, and a turn spent asks again, so without this the queue would
    hold a turn per batch and the runner's own tasks would wait behind all of them. The mark is cleared
    by the turn as it starts (a worker killed mid-turn has cleared it already), and the minute's
    wake-up wakes a send regardless, so a turn lost with the queue delays the send by a minute at most."""
    from publishing.email.models import EmailCampaign

    queued = EmailCampaign.objects.filter(pk=email_campaign_id, turn_queued_at__isnull=True).update(
        turn_queued_at=timezone.now())
    if queued:
        campaign_wake(email_campaign_id, workers=1)
    return bool(queued)
