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

from analytics.models import CampaignChannelDay, FoldCheckpoint
from crm.choices import EventKind
from crm.models import EngagementEvent

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
    checkpoint.folded_at = timezone.now()
    checkpoint.save()
    return {"events_folded": folded, "up_to_id": checkpoint.last_id}


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
    now = timezone.now()
    checkpoint.last_id = high_id
    checkpoint.rows_folded = EngagementEvent.objects.filter(id__lte=high_id).count()
    checkpoint.folded_at = checkpoint.rebuilt_at = now
    checkpoint.save()
    return {"events_folded": checkpoint.rows_folded, "up_to_id": high_id}


def rollup_lag() -> dict:
    """How far behind the roll-up is: events not folded yet and the time of the last fold."""
    checkpoint = FoldCheckpoint.objects.filter(name=CAMPAIGN_DAY_FOLD).first()
    last_id = checkpoint.last_id if checkpoint else 0
    pending = EngagementEvent.objects.filter(id__gt=last_id).count()
    return {"pending_events": pending, "folded_at": checkpoint.folded_at if checkpoint else None}
