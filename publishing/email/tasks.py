"""django-q2 entry points of email. They only wake workers; what to send is decided by the database."""

import logging

from django.conf import settings

from publishing.email.choices import SendStatus
from publishing.email.models import EmailCampaign
from publishing.email.sender import worker_run
from publishing.email.sender.batch import TIME_BUDGET_SPENT, TURN_SPENT
from publishing.email.services.campaigns import (
    campaigns_needing_work,
    email_campaign_complete_if_done,
    email_campaigns_start_due,
    leases_recover,
)
from publishing.email.services.tracking import fold_tracking_hits
from publishing.email.services.wake import campaign_turn_queue, campaign_wake

logger = logging.getLogger("publishing.email")


def email_campaign_work(email_campaign_id: int) -> dict:
    """Idempotent: a second run finds nothing claimable and returns."""
    report = worker_run(email_campaign_id=email_campaign_id)
    if report.stopped_because == TURN_SPENT:
        campaign_turn_queue(email_campaign_id)
    elif report.stopped_because == TIME_BUDGET_SPENT:
        campaign_wake(email_campaign_id, workers=1)
    return report.__dict__


def email_fold_tracking_hits() -> int:
    """Every minute: fold the opens and clicks recorded since, within the worker's timeout (a second
    run at the same time takes other hits, so an overrun is harmless)."""
    return fold_tracking_hits(time_budget=max(settings.Q_TIMEOUT - 60, settings.Q_TIMEOUT / 2))


def email_wake_sends() -> int:
    """Every minute: start scheduled sends that are due, recover stopped workers' sends, retry due
    deliveries, complete finished sends."""
    email_campaigns_start_due()
    for email_campaign in EmailCampaign.objects.filter(status=SendStatus.SENDING).only("pk", "campaign_id"):
        leases_recover(campaign_id=email_campaign.campaign_id)
        email_campaign_complete_if_done(email_campaign_id=email_campaign.pk)
    woken = 0
    for email_campaign_id in campaigns_needing_work().values_list("pk", flat=True):
        campaign_wake(email_campaign_id)
        woken += 1
    return woken


def email_poll_inboxes() -> int:
    from publishing.email.inbox import inboxes_poll

    return inboxes_poll()


def email_evaluate_ab_tests() -> int:
    from publishing.email.services.ab_tests import ab_tests_evaluate_due

    return ab_tests_evaluate_due()
