"""Announcing contacts who enter a segment (segment.entered webhooks), for segments marked so.

Segments are rules evaluated when read, so an entry is found by comparing the members now with those
recorded at the last check. The first check of a segment only records its members: announcing
everyone already in would flood receivers with contacts who entered nothing.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from crm.models import Segment, SegmentEntry
from crm.selectors import segment_queryset
from crm.webhook_events import contact_payload
from webhooks.events import emit_many

BATCH = 2000


@transaction.atomic
def segment_entries_refresh(*, segment: Segment) -> int:
    """Records who entered and left since the last check and announces the entries; returns how many."""
    segment = Segment.objects.select_for_update().get(pk=segment.pk)
    members = segment_queryset(segment)
    known = SegmentEntry.objects.filter(segment=segment)
    known.exclude(contact_id__in=members.values("pk")).delete()
    entered = members.exclude(pk__in=known.values("contact_id")).order_by("pk")
    first_check = segment.entries_tracked_at is None
    count = 0
    while batch := list(entered[:BATCH]):
        SegmentEntry.objects.bulk_create([SegmentEntry(segment=segment, contact=contact) for contact in batch])
        if not first_check:
            emit_many("segment.entered", [{"segment_id": segment.pk, "segment": segment.name,
                                           **contact_payload(contact)} for contact in batch])
        count += len(batch)
    if first_check:
        Segment.objects.filter(pk=segment.pk).update(entries_tracked_at=timezone.now())
        return 0
    return count


@transaction.atomic
def segment_entries_forget(*, segment: Segment) -> None:
    """A segment no longer announcing entries starts afresh if it is marked again."""
    SegmentEntry.objects.filter(segment=segment).delete()
    Segment.objects.filter(pk=segment.pk).update(entries_tracked_at=None)


def segments_entries_refresh() -> int:
    """Every segment marked to announce entries, one transaction each."""
    for segment in Segment.objects.filter(announce_entries=False, entries_tracked_at__isnull=False):
        segment_entries_forget(segment=segment)
    return sum(segment_entries_refresh(segment=segment) for segment in Segment.objects.filter(announce_entries=True))
