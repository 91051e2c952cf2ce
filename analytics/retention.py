"""Retention of raw engagement events: folded into the daily roll-ups first, then deleted (all but
conversions).

The roll-ups fold events by id (analytics.services.rollups), so an event may go once its id is at or
below the fold's checkpoint: its figures are in the roll-up already, and deleting it changes no roll-up
row. The run folds first, so everything old enough goes in one night; an event that arrives later with an
old date waits for the next fold and the next run. The checkpoint's `kept_before` tells a rebuild which
days have lost their raw events and must be kept as they are.
"""

import datetime as dt

from django.db import transaction
from django.utils import timezone

from aicmo_site.models import RetentionKind
from aicmo_site.retention import retention_time_up
from analytics.models import FoldCheckpoint
from analytics.services.rollups import CAMPAIGN_DAY_FOLD, rollup_fold
from analytics.services.zones import team_zone
from crm.choices import EventKind
from crm.models import EngagementEvent
from crm.retention import engagement_events_remove


def events_boundary(cutoff: dt.datetime) -> tuple[dt.date, dt.datetime]:
    """The first day kept (in the team's zone, the zone of the roll-up's days) and the instant it starts:
    a day's events go all together or not at all."""
    zone = team_zone()
    first_kept = timezone.localtime(cutoff, zone).date()
    return first_kept, dt.datetime.combine(first_kept, dt.time.min, tzinfo=zone)


def _events_apply(*, policy, cutoff, dry_run: bool, batch_size: int) -> int:
    first_kept, boundary = events_boundary(cutoff)
    # Conversions stay: they are the payments behind every contact's lifetime value and value tier (summed
    # from the events, not from the roll-ups), and few beside the opens and clicks.
    old = EngagementEvent.objects.filter(occurred_at__lt=boundary).exclude(kind=EventKind.CONVERTED)
    if dry_run:
        return old.count()
    rollup_fold()
    with transaction.atomic():
        checkpoint = FoldCheckpoint.objects.select_for_update().get(name=CAMPAIGN_DAY_FOLD)
        # Recorded before the first deletion: a rebuild that starts meanwhile keeps these days as they are.
        if checkpoint.kept_before is None or checkpoint.kept_before < first_kept:
            checkpoint.kept_before = first_kept
            checkpoint.save(update_fields=["kept_before"])
        folded_up_to = checkpoint.last_id
    folded = old.filter(id__lte=folded_up_to)
    removed, after = 0, 0
    while not retention_time_up():
        # From the last id seen, not from the start: the index still holds the deleted rows until vacuum.
        ids = list(folded.filter(id__gt=after).order_by("id").values_list("id", flat=True)[:batch_size])
        if not ids:
            return removed
        removed += engagement_events_remove(ids=ids)
        after = ids[-1]
    return removed


RETENTION = {RetentionKind.ENGAGEMENT_EVENTS: _events_apply}
