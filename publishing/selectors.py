"""Every non-trivial read of publishing: lists share one tuned query with the API."""

from django.db.models import Count, F, Max, OuterRef, Prefetch, Q, QuerySet, Subquery, Sum
from django.urls import reverse

from aicmo_site.stuck import StuckWork
from crm.selectors import audience_contacts
from gateways.capabilities import ProviderKind
from gateways.models import ProviderAccount
from media.choices import AssetStatusChoices
from media.models import Asset
from media.selectors import assets_in_review
from media.services.approval import APPROVE_PERMISSION as APPROVE_ASSET
from publishing import conf
from publishing.choices import DUE_JOB, CampaignStatus, ContentStatus, JobStatus, ReviewStatus
from publishing.models import (
    Campaign,
    Channel,
    ChannelVersion,
    Content,
    ContentEvent,
    MetricSnapshot,
    PublishingJob,
)


def content_list(*, filters: dict | None = None) -> QuerySet[Content]:
    from publishing.filters import ContentFilterSet

    queryset = Content.objects.select_related("author", "link_report")
    return ContentFilterSet(filters or {}, queryset=queryset).qs if filters is not None else queryset


def content_detail(*, pk: int) -> Content:
    return (Content.objects.select_related("author", "link_report")
            .prefetch_related(Prefetch("versions",
                                       queryset=ChannelVersion.objects.prefetch_related("media__renditions")),
                              Prefetch("events", queryset=ContentEvent.objects.select_related("by")),
                              "media__renditions", "campaigns")
            .get(pk=pk))


def review_queue() -> QuerySet[Content]:
    return (Content.objects.filter(status=ContentStatus.IN_REVIEW).select_related("author", "link_report")
            .prefetch_related(Prefetch("versions",
                                       queryset=ChannelVersion.objects.prefetch_related("media__renditions")),
                              "campaigns"))


APPROVE_CONTENT = "publishing.approve_content"


def content_waiting_for(user) -> QuerySet[Content]:
    """Content in review that this person may decide on (not their own, unless self-approval is on),
    the longest-waiting first."""
    if not user.has_perm(APPROVE_CONTENT):
        return Content.objects.none()
    waiting = Content.objects.filter(status=ContentStatus.IN_REVIEW)
    if not conf.allow_self_approval():
        waiting = waiting.exclude(author=user)
    return waiting


def approval_inbox(user) -> dict:
    """The approver's inbox: content (with its versions) and assets waiting for this person."""
    content = (content_waiting_for(user).select_related("author", "link_report")
               .prefetch_related(Prefetch("versions", queryset=ChannelVersion.objects.order_by("kind")
                                          .prefetch_related("media__renditions")), "media", "campaigns")
               .annotate(waiting_since=Max("reviews__requested_at", filter=Q(reviews__status=ReviewStatus.OPEN)))
               .order_by(F("waiting_since").asc(nulls_first=True), "pk"))
    assets = assets_in_review() if user.has_perm(APPROVE_ASSET) else Asset.objects.none()
    return {"content": content, "assets": assets}


def approvals_waiting_count(user) -> int:
    """How much waits for this person's approval, in one query (the navigation shows it on every page)."""
    content = content_waiting_for(user).order_by().values("pk")
    if not user.has_perm(APPROVE_ASSET):
        return content.count() if user.has_perm(APPROVE_CONTENT) else 0
    assets = Asset.objects.filter(status=AssetStatusChoices.IN_REVIEW).order_by().values("pk")
    return content.union(assets, all=True).count()


# Jobs a person has to look at: the channel refused, the outcome is unknown, or a post waits to be made by hand.
JOBS_NEEDING_ATTENTION = (JobStatus.FAILED, JobStatus.NEEDS_CHECKING, JobStatus.AWAITING_MANUAL)


def campaigns_running(*, limit: int = 10) -> list[Campaign]:
    """Running and paused campaigns, each with `percent` of its posts settled (published or canceled)."""
    campaigns = list(campaign_list().filter(status__in=(CampaignStatus.RUNNING, CampaignStatus.PAUSED))[:limit])
    for campaign in campaigns:
        settled = campaign.published_count + campaign.canceled_count
        campaign.percent = round(100 * settled / campaign.job_count) if campaign.job_count else 0
    return campaigns


def jobs_needing_attention(*, limit: int = 10) -> tuple[list[PublishingJob], int]:
    """The longest-waiting jobs a person must look at, and how many there are in all."""
    jobs = PublishingJob.objects.filter(status__in=JOBS_NEEDING_ATTENTION)
    listed = list(jobs.select_related("campaign", "content", "channel").order_by("updated_at", "pk")[:limit])
    return listed, jobs.count()


def publishing_getting_started() -> dict:
    """The getting-started checklist's publishing step: is there content yet? (Sends: publishing.email.selectors.)"""
    return {"content": Content.objects.exists()}


def public_content(*, slug: str) -> Content:
    return Content.objects.select_related("author", "link_report").get(slug=slug, status=ContentStatus.PUBLISHED)


def channel_list() -> QuerySet[Channel]:
    return Channel.objects.select_related("provider_account")


def campaign_list(*, filters: dict | None = None) -> QuerySet[Campaign]:
    from publishing.filters import CampaignFilterSet

    queryset = Campaign.objects.select_related("created_by").annotate(
        job_count=Count("jobs", distinct=True),
        published_count=Count("jobs", filter=Q(jobs__status=JobStatus.PUBLISHED), distinct=True),
        failed_count=Count("jobs", filter=Q(jobs__status=JobStatus.FAILED), distinct=True),
        canceled_count=Count("jobs", filter=Q(jobs__status=JobStatus.CANCELED), distinct=True),
    ).order_by("-created_at", "-pk")  # a GROUP BY query drops Meta.ordering: pages would be unstable
    return CampaignFilterSet(filters or {}, queryset=queryset).qs if filters is not None else queryset


def job_list(*, filters: dict | None = None) -> QuerySet[PublishingJob]:
    from publishing.filters import JobFilterSet

    queryset = PublishingJob.objects.select_related("campaign", "content", "channel", "weather_hold__city")
    return JobFilterSet(filters or {}, queryset=queryset).qs if filters is not None else queryset


def campaign_job_progress(*, campaign: Campaign) -> dict:
    """How far a campaign's posting has got, from one grouped count of its jobs: the share settled
    (published or canceled: nothing more will happen to them) and the count in each status, in the
    order of JobStatus, with failures and posts waiting for a person called out."""
    counts = dict(campaign.jobs.order_by().values_list("status").annotate(n=Count("pk")))
    total = sum(counts.values())
    settled = counts.get(JobStatus.PUBLISHED, 0) + counts.get(JobStatus.CANCELED, 0)
    return {
        "total": total, "settled": settled, "percent": round(100 * settled / total) if total else 0,
        "statuses": [(value, label, counts[value]) for value, label in JobStatus.choices if counts.get(value)],
        "attention": sum(counts.get(status, 0) for status in
                         (JobStatus.FAILED, JobStatus.NEEDS_CHECKING, JobStatus.AWAITING_MANUAL)),
    }


def channel_feed_jobs(*, channel: Channel) -> QuerySet[PublishingJob]:
    return (PublishingJob.objects.filter(channel=channel, status=JobStatus.PUBLISHED)
            .select_related("content__author", "version").order_by("-published_at", "-pk"))


def latest_snapshots(*, campaign: Campaign | int) -> QuerySet[MetricSnapshot]:
    """The newest snapshot of each job of the campaign (snapshots hold running totals)."""
    newest = MetricSnapshot.objects.filter(job=OuterRef("job")).order_by("-taken_at", "-pk").values("pk")[:1]
    return MetricSnapshot.objects.filter(job__campaign=campaign, pk=Subquery(newest))


def campaign_metrics(*, campaign: Campaign) -> list[dict]:
    """Totals per channel of the newest snapshot of each job."""
    rows = (latest_snapshots(campaign=campaign).values("job__channel_id", "job__channel__name")
            .annotate(impressions=Sum("impressions"), clicks=Sum("clicks"), engagements=Sum("engagements"),
                      conversions=Sum("conversions"), spend=Sum("spend"))
            .order_by("job__channel__name"))
    return [
        {"channel_id": r["job__channel_id"], "channel": r["job__channel__name"],
         **{k: r[k] for k in ("impressions", "clicks", "engagements", "conversions", "spend")}}
        for r in rows
    ]


def campaign_audience(*, campaign: Campaign):
    """The people the campaign targets (contacts, tags, domains, segments, less exclusions), each once; email sending
    narrows it further with crm's contacts_emailable."""
    return audience_contacts(campaign.audience or {})


def jobs_needing_a_provider() -> list[str]:
    """Jobs due on channels posted through a provider (not by a person), per channel
    (gateways.readiness.register_use)."""
    due = (PublishingJob.objects.filter(status__in=(*DUE_JOB, JobStatus.PUBLISHING),
                                        channel__provider_account__isnull=False)
           .values("channel__name", "channel__provider_account").annotate(jobs=Count("id")).order_by("channel__name"))
    due = list(due)
    accounts = ProviderAccount.objects.in_bulk({row["channel__provider_account"] for row in due})
    return [f"{row['jobs']} job{'s' if row['jobs'] != 1 else ''} due on {row['channel__name']}" for row in due
            if accounts[row["channel__provider_account"]].kind != ProviderKind.MANUAL]


def jobs_stuck(*, before) -> QuerySet[PublishingJob]:
    """Jobs due, queued or publishing, untouched since `before`: the dispatcher takes a due job within
    a minute and a post ends within its timeout, so these wait on something nobody sees."""
    return PublishingJob.objects.filter(
        Q(status__in=(JobStatus.QUEUED, JobStatus.PUBLISHING), updated_at__lt=before)
        | Q(status=JobStatus.SCHEDULED, due_at__lt=before, updated_at__lt=before))


def campaigns_stuck(*, before) -> QuerySet[Campaign]:
    """Running campaigns with a stuck job, each with `stuck_jobs` and `progressed_at` (its stuck jobs' latest touch)."""
    stuck = jobs_stuck(before=before).filter(campaign=OuterRef("pk")).order_by().values("campaign")
    return (Campaign.objects.filter(status=CampaignStatus.RUNNING)
            .annotate(stuck_jobs=Subquery(stuck.annotate(n=Count("id")).values("n")),
                      progressed_at=Subquery(stuck.annotate(last=Max("updated_at")).values("last")))
            .filter(stuck_jobs__gt=0))


def stuck_work(*, before) -> list[StuckWork]:
    """For the home page (aicmo_site.stuck); stuck sends are publishing.email.selectors'."""
    return [StuckWork("Campaign", f"{c.name} ({c.stuck_jobs} stuck job{'s' if c.stuck_jobs != 1 else ''})",
                      reverse("publishing:campaign-detail", args=[c.pk]), c.progressed_at)
            for c in campaigns_stuck(before=before)]
