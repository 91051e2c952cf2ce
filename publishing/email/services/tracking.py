"""Opens and clicks: recorded as one append-only hit per request, folded in the background.

The tracking endpoints answer a campaign's first hour of opens, so each request only INSERTs a narrow
TrackingHit row (committed before the answer, so a crash loses no answered hit). The fold, every minute
and in batches, turns the hits into what one open or click always meant: the delivery's counts and
first times, the contact's engagement events (and "engaged" stage) and the webhooks' email.opened and
email.clicked.

Each hit is folded exactly once: a batch is taken by DELETE ... RETURNING in the same transaction as
everything it writes, so two folders never take the same hit (on PostgreSQL the second skips the rows the
first has locked) and a folder killed mid-batch leaves the whole batch for the next one.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.db import connection, transaction
from django.utils import timezone

from crm.choices import EventKind
from crm.models import EngagementEvent
from crm.services import contacts_record_engagement
from publishing.email import conf
from publishing.email.choices import TrackingHitKind
from publishing.email.models import EmailDelivery, EmailLink, TrackingHit
from publishing.email.webhook_events import delivery_payload
from webhooks.events import emit_many


@dataclass(frozen=True)
class Hit:
    kind: str
    delivery_id: int
    occurred_at: datetime
    link_id: int | None = None


def open_hit_record(*, delivery_id: int) -> None:
    """The open pixel's one write (autocommit: committed when this returns)."""
    TrackingHit.objects.create(kind=TrackingHitKind.OPEN, delivery_id=delivery_id, occurred_at=timezone.now())


def click_hit_record(*, delivery_id: int, link_id: int) -> str | None:
    """The click redirect's one statement: the hit is appended only if the link is of the delivery's own
    campaign and safe to follow, and its URL comes back (None: no hit, a 404)."""
    hits, deliveries, links = (connection.ops.quote_name(model._meta.db_table)
                               for model in (TrackingHit, EmailDelivery, EmailLink))
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {hits} (kind, delivery_id, link_id, occurred_at)"  # noqa: S608 - table names only
            f" SELECT %s, d.id, l.id, %s FROM {deliveries} d JOIN {links} l ON l.campaign_id = d.campaign_id"
            " WHERE d.id = %s AND l.id = %s AND (LOWER(l.url) LIKE 'http://%%' OR LOWER(l.url) LIKE 'https://%%')"
            f" RETURNING (SELECT url FROM {links} WHERE id = link_id)",
            [TrackingHitKind.CLICK.value, connection.ops.adapt_datetimefield_value(timezone.now()), delivery_id,
             link_id])
        row = cursor.fetchone()
    return row[0] if row else None


def click_target(*, delivery_id: int, link_id: int) -> str | None:
    """The URL a genuine click token leads to (for a HEAD, which records nothing): a link of the delivery's
    own campaign, in one indexed query; None when the delivery or the link is not there or not of the same
    campaign."""
    return (EmailLink.objects.filter(pk=link_id, campaign_id=EmailDelivery.objects.filter(pk=delivery_id)
                                     .values("campaign_id")[:1])
            .values_list("url", flat=True).first())


def hits_take(limit: int) -> list[Hit]:
    """Deletes up to `limit` of the oldest hits and returns them, in the caller's transaction (which must
    apply them: its rollback puts them back)."""
    table = connection.ops.quote_name(TrackingHit._meta.db_table)
    # SQLite takes the write lock with the DELETE, so a second folder waits; PostgreSQL's folders take
    # disjoint rows.
    skip_locked = " FOR UPDATE SKIP LOCKED" if connection.features.has_select_for_update_skip_locked else ""
    taken = TrackingHit.objects.raw(
        f"DELETE FROM {table} WHERE id IN (SELECT id FROM {table} ORDER BY id LIMIT %s{skip_locked})"  # noqa: S608
        " RETURNING id, kind, delivery_id, link_id, occurred_at", [limit])
    return [Hit(kind=hit.kind, delivery_id=hit.delivery_id, link_id=hit.link_id, occurred_at=hit.occurred_at)
            for hit in sorted(taken, key=lambda hit: hit.pk)]


def _deliveries_count(changes: dict[int, list]) -> None:
    """Adds each delivery's opens and clicks of the batch and sets its first times if missing, in one UPDATE
    (the rows are locked already). Django's bulk_update would write a CASE per column with a branch per
    delivery, which took 15 of the 34 s a 2,000-hit fold took on PostgreSQL."""
    postgresql = connection.vendor == "postgresql"
    row = ("(%s::bigint, %s::integer, %s::integer, %s::timestamptz, %s::timestamptz)" if postgresql
           else "(%s, %s, %s, %s, %s)")
    adapt = connection.ops.adapt_datetimefield_value
    table = connection.ops.quote_name(EmailDelivery._meta.db_table)
    ordered = sorted(changes.items())
    for start in range(0, len(ordered), 1000):  # five parameters a delivery, within every database's limit
        chunk = ordered[start:start + 1000]
        params = [value for pk, (opens, clicks, first_open, first_click) in chunk
                  for value in (pk, opens, clicks, adapt(first_open), adapt(first_click))]
        _deliveries_update(table, row, len(chunk), params)


def _deliveries_update(table: str, row: str, rows: int, params: list) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET open_count = open_count + v.opens, click_count = click_count + v.clicks,"  # noqa: S608
            " first_opened_at = COALESCE(first_opened_at, v.first_open),"
            " first_clicked_at = COALESCE(first_clicked_at, v.first_click)"
            " FROM (SELECT column1 AS id, column2 AS opens, column3 AS clicks, column4 AS first_open,"
            f" column5 AS first_click FROM (VALUES {', '.join([row] * rows)}) AS batch) AS v"
            f" WHERE {table}.id = v.id", params)


@transaction.atomic
def hits_apply(hits: Iterable[Hit]) -> int:
    """What the hits mean, in hit order: the same as applying each open or click on its own, in a few
    statements per batch. A click proves an open too (images are often blocked), so it sets the first
    open if missing. Returns how many hits were of a delivery still there."""
    hits = list(hits)
    deliveries = {delivery.pk: delivery for delivery in EmailDelivery.objects.select_related("contact")
                  .filter(pk__in={hit.delivery_id for hit in hits}).order_by("pk").select_for_update(of=("self",))}
    hits = [hit for hit in hits if hit.delivery_id in deliveries]
    if not hits:
        return 0
    urls = dict(EmailLink.objects.filter(pk__in={hit.link_id for hit in hits if hit.link_id})
                .values_list("pk", "url"))
    events, opened, clicked = [], [], []
    changes: dict[int, list] = {}  # delivery: [opens, clicks, first open, first click] of this batch
    for hit in hits:
        delivery = deliveries[hit.delivery_id]
        change = changes.setdefault(delivery.pk, [0, 0, hit.occurred_at, None])
        source = {"campaign_id": delivery.campaign_id, "channel": "email", "source_kind": "delivery",
                  "source_id": str(delivery.pk)}
        if hit.kind == TrackingHitKind.OPEN:
            change[0] += 1
            events.append(EngagementEvent(contact=delivery.contact, kind=EventKind.OPENED,
                                          occurred_at=hit.occurred_at, **source))
            opened.append(delivery_payload(delivery, delivery.contact.email))
        else:
            url = urls.get(hit.link_id, "")
            change[1] += 1
            change[3] = change[3] or hit.occurred_at
            events.append(EngagementEvent(contact=delivery.contact, kind=EventKind.CLICKED,
                                          occurred_at=hit.occurred_at, detail={"url": url, "link_id": hit.link_id},
                                          **source))
            clicked.append({**delivery_payload(delivery, delivery.contact.email), "url": url})
    _deliveries_count(changes)
    contacts_record_engagement(events=events)
    emit_many("email.opened", opened)
    emit_many("email.clicked", clicked)
    return len(hits)


def fold_tracking_hits(*, batch: int | None = None, time_budget: float | None = None) -> int:
    """Folds waiting hits, a batch per transaction, until none is left or the time budget is spent;
    returns how many were folded (hits of deliveries gone since are dropped uncounted). Tests that read
    opens or clicks after a request call this first."""
    batch = batch or conf.tracking_fold_batch()
    started = time.monotonic()
    folded = 0
    while time_budget is None or time.monotonic() - started < time_budget:
        with transaction.atomic():
            hits = hits_take(batch)
            folded += hits_apply(hits)
        if len(hits) < batch:
            break
    return folded
