"""A worker's run over one send: claim a batch, send it, until nothing is left, the send stops or the
time budget is spent."""

import time
from contextlib import contextmanager

from django.db import connection

from publishing.email import conf
from publishing.email.choices import SendStatus
from publishing.email.models import EmailCampaign
from publishing.email.sender.batch import CampaignSender, WorkerReport, send_batch
from publishing.email.sender.claiming import claim_batch, work_coming_soon, worker_name
from publishing.email.services.campaigns import email_campaign_complete_if_done, leases_recover

LEASE_POLL_SECONDS = 0.5


@contextmanager
def _commit_durability():
    """synchronous_commit off for this connection while it sends, when configured (see publishing.email.sender)."""
    relaxed = not conf.synchronous_commit() and connection.vendor == "postgresql"
    if relaxed:
        with connection.cursor() as cursor:
            cursor.execute("SET synchronous_commit = off")
    try:
        yield
    finally:
        if relaxed:
            # The worker process runs other tasks on this connection afterwards.
            with connection.cursor() as cursor:
                cursor.execute("RESET synchronous_commit")


def worker_run(*, email_campaign_id: int, owner: str | None = None,
               budget_seconds: float | None = None) -> WorkerReport:
    """Send until nothing is claimable, the send is paused or canceled, or the time budget is spent."""
    with _commit_durability():
        return _worker_loop(email_campaign_id=email_campaign_id, owner=owner or worker_name(),
                            budget_seconds=budget_seconds)


def _worker_loop(*, email_campaign_id: int, owner: str, budget_seconds: float | None) -> WorkerReport:
    report = WorkerReport()
    email_campaign = EmailCampaign.objects.select_related("campaign", "template").get(pk=email_campaign_id)
    deadline = time.monotonic() + (budget_seconds if budget_seconds is not None else conf.worker_budget_seconds())
    leases_recover(campaign_id=email_campaign.campaign_id)
    sender = CampaignSender(email_campaign, owner)
    try:
        return _send_until_done(sender, report, email_campaign, deadline)
    finally:
        sender.close_sessions()
        sender.marks.close()


def _send_until_done(sender: CampaignSender, report: WorkerReport, email_campaign: EmailCampaign,
                     deadline: float) -> WorkerReport:
    email_campaign_id, owner = email_campaign.pk, sender.owner
    while True:
        if EmailCampaign.objects.values_list("status", flat=True).get(pk=email_campaign_id) != SendStatus.SENDING:
            report.stopped_because = "not sending"
            return report
        if time.monotonic() > deadline:
            report.stopped_because = "time budget spent"
            return report
        claimed = claim_batch(campaign_id=email_campaign.campaign_id, owner=owner, size=conf.batch_size())
        if not claimed:
            leases_recover(campaign_id=email_campaign.campaign_id)
            if email_campaign_complete_if_done(email_campaign_id=email_campaign_id) or not work_coming_soon(
                    email_campaign.campaign_id):
                report.stopped_because = "nothing left to claim"
                return report
            # Another worker holds claims (it is sending them, or it died and they come back when the lease
            # expires) or a retry is nearly due: waiting here beats waiting for the periodic wake-up.
            time.sleep(LEASE_POLL_SECONDS)
            continue
        report.claimed_batches += 1
        # After providers refused, the rest of the batch waits for its retry time: the loop claims nothing
        # until then and waits itself only when that is soon, leaving longer waits to the periodic wake-up.
        if not send_batch(sender, claimed, report) and report.stopped_because != "no provider available":
            return report
