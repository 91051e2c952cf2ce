"""A campaign's workflow: its moves, their audit, and the completion of a campaign whose jobs all ended.

Apart from the campaign services so that the job services, which end the jobs, can complete a campaign
without importing the campaign services, which move the jobs.
"""

from django.db.models import Exists, OuterRef, Q

from aicmo_site.transitions import Action, Change, Workflow
from publishing.choices import (
    CAMPAIGN_TRANSITIONS,
    SEND_STATUSES_UNDER_WAY,
    TERMINAL_CAMPAIGN,
    CampaignStatus,
    JobStatus,
)
from publishing.models import Campaign, CampaignEvent, PublishingJob
from publishing.webhook_events import campaign_event_emit


def _recorded(change: Change) -> None:
    CampaignEvent.objects.create(campaign=change.obj, from_status=change.source, to_status=change.target,
                                 by=change.by, note=change.note)
    campaign_event_emit(change.obj, source=change.source)


def _may_add_email(campaign: Campaign, user) -> bool:
    return not campaign.is_finished and not hasattr(campaign, "email")


_CHANGE = "publishing.change_campaign"
CAMPAIGN_WORKFLOW = Workflow(
    model=Campaign, transitions=CAMPAIGN_TRANSITIONS, terminal=TERMINAL_CAMPAIGN, noun="campaign",
    audit=_recorded, audit_model=CampaignEvent,
    actions=[
        Action("edit", "Edit", permission=_CHANGE, sources={CampaignStatus.DRAFT}),
        Action("activate", "Activate", permission=_CHANGE, sources={CampaignStatus.DRAFT}),
        Action("pause", "Pause", to=CampaignStatus.PAUSED, permission=_CHANGE),
        Action("resume", "Resume", to=CampaignStatus.RUNNING, permission=_CHANGE, sources={CampaignStatus.PAUSED}),
        Action("cancel", "Cancel", to=CampaignStatus.CANCELED, permission=_CHANGE),
        Action("email", "Add an email", permission="publishing.add_emailcampaign", condition=_may_add_email),
        Action("duplicate", "Duplicate", permission="publishing.add_campaign"),
        Action("hold_for_weather", "Hold for the weather", permission=_CHANGE,
               condition=lambda campaign, user: not campaign.is_finished),
    ],
)


def campaign_transition(*, campaign: Campaign, to: str, by=None, note: str = "", **fields) -> Campaign:
    """The one way a campaign changes status; the callers hold the row (read for update)."""
    return CAMPAIGN_WORKFLOW.transition(campaign, to, by=by, note=note, locked=True, fields=fields)


def campaign_complete_if_done(*, campaign_id: int) -> None:
    """A running campaign whose jobs all ended (published, failed or canceled) and whose email send, if
    it has one under way, has ended too is completed; the send's own end asks again.

    Checked without a lock first: every job of a campaign ends here, and locking the campaign row
    each time would make all workers wait on one another."""
    ended = (JobStatus.PUBLISHED, JobStatus.FAILED, JobStatus.CANCELED)
    live = (CampaignStatus.RUNNING, CampaignStatus.SCHEDULED)
    open_jobs = PublishingJob.objects.filter(campaign_id=OuterRef("pk")).exclude(status__in=ended)
    # One query, asked after every job's end: most of the time the answer is no.
    settling = Campaign.objects.alias(has_open_jobs=Exists(open_jobs)).filter(
        Q(status=CampaignStatus.SCHEDULED) | Q(status=CampaignStatus.RUNNING, has_open_jobs=False), pk=campaign_id)
    sending = Campaign.objects.filter(pk=campaign_id, email__status__in=SEND_STATUSES_UNDER_WAY)
    if not settling.exists():
        return
    campaign = Campaign.objects.select_for_update().filter(pk=campaign_id, status__in=live).first()
    if campaign is None:
        return
    if campaign.status == CampaignStatus.SCHEDULED:
        campaign = campaign_transition(campaign=campaign, to=CampaignStatus.RUNNING, note="First post went out")
    if not campaign.jobs.exclude(status__in=ended).exists() and not sending.exists():
        campaign_transition(campaign=campaign, to=CampaignStatus.COMPLETED, note="Every job and send ended")

