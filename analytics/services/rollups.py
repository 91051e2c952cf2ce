"""Daily and hourly roll-ups folded in SQL.

The ORM writes the per-day GROUP BY (so the team's time zone is applied the way each database
does it), and one INSERT ... SELECT ... ON CONFLICT DO UPDATE adds it to the table: no row of
events ever passes through Python. Events are append-only, so "what arrived since the last
fold" is simply "ids above the checkpoint", late-arriving events included.

Where each measure comes from, so that nothing is counted twice:
- sent: email deliveries with status "sent", on the day of their sent_at (publishing's email
  records no crm "sent" event; a crm "sent" event whose source is a delivery is skipped all the
  same, so if it ever starts to, a send still counts once). Other "sent" events (imports, other
  tools) count as they are. Deliveries change state after they are created, so they are not
  folded by id: their counts are set (not added) in `emails_sent` on every fold.
- delivered, opens, clicks, replies, conversions and the rest: crm engagement events. Publishing's
  email records each open, click, reply and provider "delivered" report as a crm event; the
  open and click counters on the delivery are the same facts again and are not read.
- impressions, engagements, post clicks and spend: the channels' metric snapshots (see
  post_metrics, which also explains why Campaign.spend and bid settings are not read).

The hourly roll-up (MetricHour: every campaign and channel together, by hour of the team's wall clock)
is folded from the same events in the same transaction, so one checkpoint serves both; it holds the
event measures and the email sends, not the channels' snapshots, which are daily. The channel roll-up
(ChannelDay: every campaign together, by channel and day) is the campaign roll-up added up over campaigns:
folded from the same grouped events, and rebuilt from the rebuilt campaign roll-up.
"""

import datetime

from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import Count, DecimalField, Max, Min, Q, Sum, Value
from django.db.models.functions import Coalesce, ExtractHour, TruncDate
from django.utils import timezone

from analytics import conf
from analytics.models import CampaignChannelDay, ChannelDay, FoldCheckpoint, MetricHour
from analytics.services.post_metrics import asset_days_recompute, content_days_recompute
from analytics.services.zones import team_zone
from crm.choices import EventKind
from crm.models import EngagementEvent
from publishing.email.choices import DeliveryStatus
from publishing.email.models import EmailDelivery

CAMPAIGN_DAY_FOLD = "campaign_channel_day"
# The fold checkpoint (last_id, folded_at) as the last fold or rebuild left it, kept in the cache so that a
# cached dashboard answer is checked against it without a query (analytics.api.cached_answers).
FOLD_STATE_KEY = "analytics:fold-state"
EMAIL_CHANNEL = "email"
DELIVERY_SOURCE = "delivery"
_STAGING = "analytics_rebuild_staging"

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


def _event_measures() -> dict:
    """The roll-ups' measures as aggregates over engagement events."""
    return {
        **{column: Count("id", filter=Q(kind=kind)) for column, kind in _COUNTED_KINDS.items()
           if column not in ("sent", "conversions")},
        # A refund is a conversion with a negative value (crm.services.payments): it takes revenue
        # back but is not a conversion itself.
        "conversions": Count("id", filter=Q(kind=EventKind.CONVERTED) & ~Q(value__lt=0)),
        "sent": Count("id", filter=Q(kind=EventKind.SENT) & ~Q(source_kind=DELIVERY_SOURCE)),
        "rollup_revenue": Coalesce(
            Sum("value", filter=Q(kind=EventKind.CONVERTED)), Value(0), output_field=DecimalField()
        ),
    }


def _events_in(low_id: int, high_id: int, since=None):
    events = EngagementEvent.objects.filter(id__gt=low_id, id__lte=high_id)
    return events if since is None else events.filter(occurred_at__gte=since)


def _events_by_campaign_channel_day(low_id: int, high_id: int, since=None):
    return (
        _events_in(low_id, high_id, since)
        .annotate(
            rollup_campaign=Coalesce("campaign_id", Value(0)),
            rollup_day=TruncDate("occurred_at", tzinfo=team_zone()),
        )
        .values("rollup_campaign", "channel", "rollup_day")
        .annotate(**_event_measures())
        .order_by()
    )


def _grouped_range(low_id: int, high_id: int, since=None) -> tuple[str, list]:
    """SELECT of the roll-up's key and measure columns, by their own names, for low_id < id <= high_id
    (and events from `since` on, when given)."""
    grouped_sql, params = _events_by_campaign_channel_day(low_id, high_id, since).query.sql_with_params()
    source = ["folded.rollup_campaign AS campaign_id", "folded.channel AS channel", "folded.rollup_day AS day",
              *[f"folded.{c} AS {c}" for c in _COUNTED_KINDS], "folded.rollup_revenue AS revenue"]
    return f"SELECT {', '.join(source)} FROM ({grouped_sql}) folded", list(params)


def _fold_range(low_id: int, high_id: int) -> int:
    """Adds events low_id < id <= high_id into the roll-up; returns the rows written."""
    grouped_sql, params = _grouped_range(low_id, high_id)
    table = connection.ops.quote_name(CampaignChannelDay._meta.db_table)
    updates = ", ".join(f"{c} = {table}.{c} + excluded.{c}" for c in _MEASURES)
    # "WHERE 1 = 1" keeps SQLite's parser from reading ON CONFLICT as a join constraint.
    sql = (
        f"INSERT INTO {table} (campaign_id, channel, day, emails_sent, {', '.join(_MEASURES)}) "
        f"SELECT g.campaign_id, g.channel, g.day, 0, {', '.join(f'g.{c}' for c in _MEASURES)} "
        f"FROM ({grouped_sql}) g WHERE 1 = 1 "
        f"ON CONFLICT (campaign_id, channel, day) DO UPDATE SET {updates}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        written = cursor.rowcount
    _fold_channel_days(f"SELECT * FROM ({grouped_sql}) g", params)
    return written


def _fold_channel_days(source_sql: str, params: list) -> None:
    """Adds the rows of `source_sql` (the campaign roll-up's key and measure columns) into the channel
    roll-up, summed over campaigns."""
    table = connection.ops.quote_name(ChannelDay._meta.db_table)
    updates = ", ".join(f"{c} = {table}.{c} + excluded.{c}" for c in _MEASURES)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (channel, day, emails_sent, {', '.join(_MEASURES)}) "
            f"SELECT c.channel, c.day, 0, {', '.join(f'SUM(c.{m})' for m in _MEASURES)} "
            f"FROM ({source_sql}) c WHERE 1 = 1 GROUP BY c.channel, c.day "
            f"ON CONFLICT (day, channel) DO UPDATE SET {updates}",
            params,
        )


def _channel_days_derive(since: datetime.date | None = None) -> None:
    """Adds the campaign roll-up's days (from `since` on, when given) into the channel roll-up."""
    days = CampaignChannelDay.objects.all() if since is None else CampaignChannelDay.objects.filter(day__gte=since)
    sql, params = days.values("channel", "day", *_MEASURES).order_by().query.sql_with_params()
    _fold_channel_days(sql, list(params))


def _fold_hours(low_id: int, high_id: int, since=None) -> int:
    """Adds events low_id < id <= high_id (from `since` on, when given) into the hourly roll-up."""
    zone = team_zone()
    grouped_sql, params = (
        _events_in(low_id, high_id, since)
        .annotate(rollup_day=TruncDate("occurred_at", tzinfo=zone), rollup_hour=ExtractHour("occurred_at", tzinfo=zone))
        .values("rollup_day", "rollup_hour").annotate(**_event_measures()).order_by()
    ).query.sql_with_params()
    table = connection.ops.quote_name(MetricHour._meta.db_table)
    updates = ", ".join(f"{c} = {table}.{c} + excluded.{c}" for c in _MEASURES)
    sources = ", ".join(f"g.{c}" for c in _COUNTED_KINDS)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (day, hour, emails_sent, {', '.join(_MEASURES)}) "
            f"SELECT g.rollup_day, g.rollup_hour, 0, {sources}, g.rollup_revenue "
            f"FROM ({grouped_sql}) g WHERE 1 = 1 ON CONFLICT (day, hour) DO UPDATE SET {updates}",
            params,
        )
        return cursor.rowcount


def _email_sends_set(model, *, annotations: dict, grouped: tuple[str, ...], columns: dict[str, str],
                     params: list) -> int:
    """Sets emails_sent on a roll-up's rows from the deliveries sent in each of its groups: `columns`
    maps the table's key columns to what fills them (`s.<grouped name>`, or %s taken from `params`)."""
    sends = (
        EmailDelivery.objects.filter(status=DeliveryStatus.SENT, sent_at__isnull=False)
        .annotate(**annotations).values(*grouped).annotate(sent=Count("id")).order_by()
    )
    sends_sql, sends_params = sends.query.sql_with_params()
    table = connection.ops.quote_name(model._meta.db_table)
    model.objects.exclude(emails_sent=0).update(emails_sent=0)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({', '.join(columns)}, emails_sent, {', '.join(_MEASURES)}) "
            f"SELECT {', '.join(columns.values())}, s.sent, {', '.join('0' for _ in _MEASURES)} "
            f"FROM ({sends_sql}) s WHERE 1 = 1 "
            f"ON CONFLICT ({', '.join(columns)}) DO UPDATE SET emails_sent = excluded.emails_sent",
            [*params, *sends_params],
        )
        return cursor.rowcount


def _email_hours_recompute() -> int:
    """Sets emails_sent on the hourly roll-up from the deliveries sent in each hour."""
    zone = team_zone()
    return _email_sends_set(
        MetricHour, annotations={"send_day": TruncDate("sent_at", tzinfo=zone),
                                 "send_hour": ExtractHour("sent_at", tzinfo=zone)},
        grouped=("send_day", "send_hour"), columns={"day": "s.send_day", "hour": "s.send_hour"}, params=[])


def _email_sends_recompute() -> int:
    """Sets emails_sent on campaign × email × day rows from the deliveries sent that day."""
    return _email_sends_set(
        CampaignChannelDay, annotations={"send_day": TruncDate("sent_at", tzinfo=team_zone())},
        grouped=("campaign_id", "send_day"),
        columns={"campaign_id": "s.campaign_id", "channel": "%s", "day": "s.send_day"}, params=[EMAIL_CHANNEL])


def _email_channel_days_recompute() -> int:
    """Sets emails_sent on the channel roll-up's email rows from the deliveries sent each day."""
    return _email_sends_set(
        ChannelDay, annotations={"send_day": TruncDate("sent_at", tzinfo=team_zone())}, grouped=("send_day",),
        columns={"channel": "%s", "day": "s.send_day"}, params=[EMAIL_CHANNEL])


def _recompute_derived() -> dict:
    return {"email_days": _email_sends_recompute(), "email_channel_days": _email_channel_days_recompute(),
            "email_hours": _email_hours_recompute(),
            "post_days": content_days_recompute(), "asset_days": asset_days_recompute()}


def _checkpoint(name: str) -> FoldCheckpoint:
    checkpoint, _ = FoldCheckpoint.objects.get_or_create(name=name)
    return FoldCheckpoint.objects.select_for_update().get(pk=checkpoint.pk)


@transaction.atomic
def rollup_fold() -> dict:
    """Folds every event that arrived since the last fold; running it again changes nothing."""
    checkpoint = _checkpoint(CAMPAIGN_DAY_FOLD)
    high_id = EngagementEvent.objects.aggregate(top=Max("id"))["top"] or 0
    folded = 0
    if checkpoint.last_id and not MetricHour.objects.exists():
        # The hourly roll-up came after the daily one: the first fold catches it up with every event
        # already folded (and kept).
        _fold_hours(0, checkpoint.last_id)
    if checkpoint.last_id and not ChannelDay.objects.exists():
        # Likewise the channel roll-up: the campaign roll-up as of the checkpoint, added up over campaigns
        # (the days whose raw events data retention deleted included).
        _channel_days_derive()
    if high_id > checkpoint.last_id:
        folded = EngagementEvent.objects.filter(id__gt=checkpoint.last_id, id__lte=high_id).count()
        _fold_range(checkpoint.last_id, high_id)
        _fold_hours(checkpoint.last_id, high_id)
        checkpoint.last_id = high_id
        checkpoint.rows_folded += folded
    derived = _recompute_derived()
    checkpoint.folded_at = timezone.now()
    checkpoint.save()
    _fold_state_publish(checkpoint)
    return {"events_folded": folded, "up_to_id": checkpoint.last_id, **derived}


@transaction.atomic
def rollup_rebuild(*, progress=None, chunk_size: int = 2_000_000) -> dict:
    """Recomputes the roll-up from every event, in id chunks (progress(done, total) after each).

    Days whose raw events data retention deleted (before the checkpoint's `kept_before`) cannot be
    recomputed: they are kept, with the events not folded yet added to them, and only the later days
    are rebuilt."""
    checkpoint = _checkpoint(CAMPAIGN_DAY_FOLD)
    high_id = EngagementEvent.objects.aggregate(top=Max("id"))["top"] or 0
    since = None
    if checkpoint.kept_before is None:
        CampaignChannelDay.objects.all().delete()
        ChannelDay.objects.all().delete()
        MetricHour.objects.all().delete()
    else:
        since = datetime.datetime.combine(checkpoint.kept_before, datetime.time.min, tzinfo=team_zone())
        if high_id > checkpoint.last_id:
            _fold_range(checkpoint.last_id, high_id)
            _fold_hours(checkpoint.last_id, high_id)
        CampaignChannelDay.objects.filter(day__gte=checkpoint.kept_before).delete()
        ChannelDay.objects.filter(day__gte=checkpoint.kept_before).delete()
        MetricHour.objects.filter(day__gte=checkpoint.kept_before).delete()
    # A few thousand hours: one grouped pass, no chunks needed.
    _fold_hours(0, high_id, since)
    table = connection.ops.quote_name(CampaignChannelDay._meta.db_table)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # A chunk's hash aggregate holds up to campaigns × channels × days groups.
            cursor.execute("SELECT set_config('work_mem', %s, true)", [f"{conf.work_mem_mb()}MB"])
        cursor.execute(f"DROP TABLE IF EXISTS {_STAGING}")
        # From the first event kept, not from id 0: events data retention deleted leave a gap of ids below it,
        # and chunks over that gap would each scan nothing.
        low = (EngagementEvent.objects.aggregate(first=Min("id"))["first"] or 1) - 1
        staging_made = False
        while low < high_id:
            upper = min(low + chunk_size, high_id)
            grouped_sql, params = _grouped_range(low, upper, since)
            # Chunks are appended to a temporary table and added up once at the end: folding each
            # into the roll-up instead updates every (campaign, channel, day) row again per chunk
            # when a chunk spans all of them.
            if not staging_made:
                cursor.execute(f"CREATE TEMPORARY TABLE {_STAGING} AS {grouped_sql}", params)
                staging_made = True
            else:
                cursor.execute(f"INSERT INTO {_STAGING} {grouped_sql}", params)
            low = upper
            if progress:
                progress(low, high_id)
        if high_id:
            cursor.execute(
                f"INSERT INTO {table} (campaign_id, channel, day, emails_sent, {', '.join(_MEASURES)}) "
                f"SELECT campaign_id, channel, day, 0, {', '.join(f'SUM({c})' for c in _MEASURES)} "
                f"FROM {_STAGING} GROUP BY campaign_id, channel, day"
            )
            cursor.execute(f"DROP TABLE {_STAGING}")
    _channel_days_derive(since=checkpoint.kept_before)
    derived = _recompute_derived()
    if connection.vendor == "postgresql":
        # The table was just emptied and refilled: without fresh statistics the planner guesses
        # a handful of rows per day range until autovacuum comes round.
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {table}")
            cursor.execute(f"ANALYZE {connection.ops.quote_name(ChannelDay._meta.db_table)}")
    now = timezone.now()
    checkpoint.last_id = high_id
    checkpoint.rows_folded = EngagementEvent.objects.filter(id__lte=high_id).count()
    checkpoint.folded_at = checkpoint.rebuilt_at = now
    checkpoint.save()
    _fold_state_publish(checkpoint)
    return {"events_folded": checkpoint.rows_folded, "up_to_id": high_id, **derived}


def _fold_state_publish(checkpoint: FoldCheckpoint) -> None:
    """Puts the new checkpoint in the cache as the fold's last step, before its transaction commits, never
    after: a checkpoint ahead of the database only makes an answer miss (answers are kept under the checkpoint
    read from the database beside the roll-ups they sum), while one behind it would serve the answers of the
    fold before; set after the commit, a crash or a lost connection in between would leave it behind. If the
    transaction rolls back, answers miss until the next fold replaces it."""
    seconds = conf.report_cache_seconds()
    if seconds and conf.fold_state_cached():
        cache.set(FOLD_STATE_KEY, (checkpoint.last_id, checkpoint.folded_at), seconds)


def rollup_lag() -> dict:
    """How far behind the roll-up is: events not folded yet and the time of the last fold."""
    return lag_since(FoldCheckpoint.objects.filter(name=CAMPAIGN_DAY_FOLD).values_list("last_id", "folded_at").first())


def lag_since(checkpoint: tuple | None) -> dict:
    """rollup_lag from the fold's (last_id, folded_at) the caller has read already (None: never folded)."""
    last_id, folded_at = checkpoint or (0, None)
    pending = EngagementEvent.objects.filter(id__gt=last_id).count()
    return {"pending_events": pending, "folded_at": folded_at}
