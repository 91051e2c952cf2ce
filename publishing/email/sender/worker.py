"""A worker's run over one send: claim a batch, send it, until nothing is left, the send stops or the
time budget is spent."""

import time
from contextlib import contextmanager

from django.db import connection

from publishing.email import conf
from publishing.email.choices import SendStatus
from publishing.email.models import EmailCampaign
from publishing.email.sender.batch import TIME_BUDGET_SPENT, TURN_SPENT, CampaignSender, WorkerReport, send_batch
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
    # A send fed by journeys goes by turns (see services.wake.campaign_turn_queue), this task being the
    # one queued: from here a runner batch may queue the next.
    turns = email_campaign.kept_open and budget_seconds is None
    if turns:
        EmailCampaign.objects.filter(pk=email_campaign_id).update(turn_queued_at=None)
        budget_seconds = conf.turn_seconds()
    elif budget_seconds is None:
        budget_seconds = conf.worker_budget_seconds()
    leases_recover(campaign_id=email_campaign.campaign_id)
    sender = CampaignSender(email_campaign, owner, deadline=time.monotonic() + budget_seconds,
                            out_of_time=TURN_SPENT if turns else TIME_BUDGET_SPENT)
    try:
        return _send_until_done(sender, report, email_campaign, turns=turns)
    finally:
        sender.close_sessions()
        sender.marks.close()


def _send_until_done(sender: CampaignSender, report: WorkerReport, email_campaign: EmailCampaign, *,
                     turns: bool) -> WorkerReport:
    email_campaign_id, owner = email_campaign.pk, sender.owner
    while True:
        if EmailCampaign.objects.values_list("status", flat=True).get(pk=email_campaign_id) != SendStatus.SENDING:
            report.stopped_because = "not sending"
            return report
        if sender.out_of_time():
            report.stopped_because = sender.out_of_time_reason
            return report
        claimed = claim_batch(campaign_id=email_campaign.campaign_id, owner=owner, size=conf.batch_size())
        if not claimed:
            leases_recover(campaign_id=email_campaign.campaign_id)
            if email_campaign_complete_if_done(email_campaign_id=email_campaign_id) or not work_coming_soon(
                    email_campaign.campaign_id):
                report.stopped_because = "nothing left to claim"
                return report
            if turns:
                # Waiting for other workers' claims or a retry due in a few seconds would keep this worker
                # from the journeys' steps: a live holder queues the next turn as its own ends, and the
                # minute's wake-up takes the retries and a dead holder's claims once their lease expires.
                report.stopped_because = "nothing claimable now"
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
