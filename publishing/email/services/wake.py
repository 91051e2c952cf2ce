"""Waking a send's workers: below the services that start, resume or release a send, which all wake it."""

from publishing.email import conf


def campaign_wake(email_campaign_id: int, *, workers: int | None = None) -> None:
    """Wake the workers of one send. The queue only wakes: deliveries are claimed from the database."""
    from django_q.tasks import async_task

    for _ in range(workers or conf.send_concurrency()):
        async_task("publishing.email.tasks.email_campaign_work", email_campaign_id,
                   task_name=f"email-send-{email_campaign_id}")
