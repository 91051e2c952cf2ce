"""Daily roll-ups folded in SQL.

The ORM writes the per-day GROUP BY (so the team's time zone is applied the way each database
does it), and one INSERT ... SELECT ... ON CONFLICT DO UPDATE adds it to the table: no row of
events ever passes through Python. Events are append-only, so "what arrived since the last
fold" is simply "ids above the checkpoint", late-arriving events included.
"""

import zoneinfo

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, DecimalField, Max, Q, Sum, Value
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone

from analytics.models import CampaignChannelDay, ContentChannelDay, FoldCheckpoint
from crm.choices import EventKind
from crm.models import EngagementEvent
from publishing.models import Channel, MetricSnapshot, PublishingJob

CAMPAIGN_DAY_FOLD = "campaign_channel_day"

# Roll-up column → the event kind it counts.
_COUNTED_KINDS = {
    "sent": EventKind.SENT,
    "delivered": EventKind.DELIVERED,
    "opens": EventKind.OPENED,
    "clicks": EventKind.CLICKED,
    "replies": EventKind.REPLIED,
    "bounces": EventKind.BOUNCED,
    "unsubscribes": EventKind.UNSUBSCRIBED,
    "complaints": EventKind.COMPLAINED,
    "page_views": EventKind.PAGE_VIEW,
    "form_submits": EventKind.FORM_SUBMIT,
    "conversions": EventKind.CONVERTED,
}
_MEASURES = [*_COUNTED_KINDS, "revenue"]


def _team_zone():
    return zoneinfo.ZoneInfo(settings.TIME_ZONE)


def _events_by_campaign_channel_day(low_id: int, high_id: int):
    return (
        EngagementEvent.objects.filter(id__gt=low_id, id__lte=high_id)
        .annotate(
            rollup_campaign=Coalesce("campaign_id", Value(0)),
            rollup_day=TruncDate("occurred_at", tzinfo=_team_zone()),
        )
        .values("rollup_campaign", "channel", "rollup_day")
        .annotate(
            **{column: Count("id", filter=Q(kind=kind)) for column, kind in _COUNTED_KINDS.items()},
            rollup_revenue=Coalesce(
                Sum("value", filter=Q(kind=EventKind.CONVERTED)), Value(0), output_field=DecimalField()
            ),
        )
        .order_by()
    )


def _fold_range(low_id: int, high_id: int) -> int:
    """Adds events low_id < id <= high_id into the roll-up; returns the rows written."""
    grouped_sql, params = _events_by_campaign_channel_day(low_id, high_id).query.sql_with_params()
    table = connection.ops.quote_name(CampaignChannelDay._meta.db_table)
    columns = ["campaign_id", "channel", "day", *_MEASURES]
    source = ["folded.rollup_campaign", "folded.channel", "folded.rollup_day",
              *[f"folded.{c}" for c in _COUNTED_KINDS], "folded.rollup_revenue"]
    updates = ", ".join(f"{c} = {table}.{c} + excluded.{c}" for c in _MEASURES)
    # "WHERE 1 = 1" keeps SQLite's parser from reading ON CONFLICT as a join constraint.
    sql = (
        f"INSERT INTO {table} ({', '.join(columns)}) "
        f"SELECT {', '.join(source)} FROM ({grouped_sql}) folded WHERE 1 = 1 "
        f"ON CONFLICT (campaign_id, channel, day) DO UPDATE SET {updates}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


_POST_MEASURES = ("impressions", "clicks", "engagements", "conversions", "spend")


def _post_metrics_recompute() -> int:
    """Rewrites the content × channel × day table from the metric snapshots.

    Snapshots are running totals, so a day's figure is its last snapshot minus the previous
    day's last snapshot (LAG over the job's days). The table is small (jobs × days), so it is
    recomputed whole: a fold and a rebuild cannot disagree.
    """
    snapshots = MetricSnapshot.objects.annotate(
        snapshot_day=TruncDate("taken_at", tzinfo=_team_zone())
    ).values("id", "job_id", "taken_at", "snapshot_day", *_POST_MEASURES).order_by()
    snapshot_sql, params = snapshots.query.sql_with_params()
    q = connection.ops.quote_name
    table, jobs, channels = (q(ContentChannelDay._meta.db_table), q(PublishingJob._meta.db_table),
                             q(Channel._meta.db_table))
    latest = ", ".join(f"s.{m}" for m in _POST_MEASURES)
    growth = ", ".join(f"d.{m} - COALESCE(LAG(d.{m}) OVER job_days, 0)" for m in _POST_MEASURES)
    sql = (
        f"INSERT INTO {table} (campaign_id, content_id, channel, day, {', '.join(_POST_MEASURES)}) "
        f"SELECT j.campaign_id, j.content_id, ch.slug, d.snapshot_day, {growth} FROM ("
        f"  SELECT s.job_id, s.snapshot_day, {latest}, ROW_NUMBER() OVER ("
        f"    PARTITION BY s.job_id, s.snapshot_day ORDER BY s.taken_at DESC, s.id DESC) AS day_rank"
        f"  FROM ({snapshot_sql}) s"
        f") d JOIN {jobs} j ON j.id = d.job_id JOIN {channels} ch ON ch.id = j.channel_id "
        f"WHERE d.day_rank = 1 WINDOW job_days AS (PARTITION BY d.job_id ORDER BY d.snapshot_day)"
    )
    ContentChannelDay.objects.all().delete()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def _checkpoint(name: str) -> FoldCheckpoint:
    checkpoint, _ = FoldCheckpoint.objects.get_or_create(name=name)
    return FoldCheckpoint.objects.select_for_update().get(pk=checkpoint.pk)


@transaction.atomic
def rollup_fold() -> dict:
    """Folds every event that arrived since the last fold; running it again changes nothing."""
    checkpoint = _checkpoint(CAMPAIGN_DAY_FOLD)
    high_id = EngagementEvent.objects.aggregate(top=Max("id"))["top"] or 0
    folded = 0
    if high_id > checkpoint.last_id:
        folded = EngagementEvent.objects.filter(id__gt=checkpoint.last_id, id__lte=high_id).count()
        _fold_range(checkpoint.last_id, high_id)
        checkpoint.last_id = high_id
        checkpoint.rows_folded += folded
    post_days = _post_metrics_recompute()
    checkpoint.folded_at = timezone.now()
    checkpoint.save()
    return {"events_folded": folded, "up_to_id": checkpoint.last_id, "post_days": post_days}


@transaction.atomic
def rollup_rebuild(*, progress=None, chunk_size: int = 500_000) -> dict:
    """Recomputes the roll-up from every event, in id chunks (progress(done, total) after each)."""
    checkpoint = _checkpoint(CAMPAIGN_DAY_FOLD)
    CampaignChannelDay.objects.all().delete()
    high_id = EngagementEvent.objects.aggregate(top=Max("id"))["top"] or 0
    total = high_id
    low = 0
    while low < high_id:
        upper = min(low + chunk_size, high_id)
        _fold_range(low, upper)
        low = upper
        if progress:
            progress(low, total)
    post_days = _post_metrics_recompute()
    now = timezone.now()
    checkpoint.last_id = high_id
    checkpoint.rows_folded = EngagementEvent.objects.filter(id__lte=high_id).count()
    checkpoint.folded_at = checkpoint.rebuilt_at = now
    checkpoint.save()
    return {"events_folded": checkpoint.rows_folded, "up_to_id": high_id, "post_days": post_days}


def rollup_lag() -> dict:
    """How far behind the roll-up is: events not folded yet and the time of the last fold."""
    checkpoint = FoldCheckpoint.objects.filter(name=CAMPAIGN_DAY_FOLD).first()
    last_id = checkpoint.last_id if checkpoint else 0
    pending = EngagementEvent.objects.filter(id__gt=last_id).count()
    return {"pending_events": pending, "folded_at": checkpoint.folded_at if checkpoint else None}
