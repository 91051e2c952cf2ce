"""Every non-trivial read of publishing: lists share one tuned query with the API."""

from django.db.models import Count, OuterRef, Prefetch, Q, QuerySet, Subquery, Sum

from crm.selectors import audience_contacts
from publishing.choices import ContentStatus, JobStatus
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

    queryset = Content.objects.select_related("author")
    return ContentFilterSet(filters or {}, queryset=queryset).qs if filters is not None else queryset


def content_detail(*, pk: int) -> Content:
    return (Content.objects.select_related("author")
            .prefetch_related(Prefetch("versions", queryset=ChannelVersion.objects.prefetch_related("media")),
                              Prefetch("events", queryset=ContentEvent.objects.select_related("by")))
            .get(pk=pk))


def review_queue() -> QuerySet[Content]:
    return (Content.objects.filter(status=ContentStatus.IN_REVIEW).select_related("author")
            .prefetch_related(Prefetch("versions", queryset=ChannelVersion.objects.prefetch_related("media"))))


def public_content(*, slug: str) -> Content:
    return Content.objects.select_related("author").get(slug=slug, status=ContentStatus.PUBLISHED)


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

    queryset = PublishingJob.objects.select_related("campaign", "content", "channel")
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
