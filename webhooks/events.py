"""The business events a subscription may ask for, and `emit`, which every domain app calls.

Emitting writes outbox rows in the caller's transaction (so an event exists exactly when the change
it reports was committed) and asks the worker to deliver them after commit. It costs one cached
lookup when nobody subscribed to the event, and one bulk insert per batch when someone did.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import UTC, datetime

from django.core.cache import cache
from django.db import connection, transaction
from django.utils import timezone
from django_q.tasks import async_task

from webhooks import conf
from webhooks.events_catalogue import EVENTS
from webhooks.models import WebhookMessage, WebhookSubscription

SUBSCRIBED_CACHE_KEY = "webhooks:subscribed-events"


def subscribed_events() -> frozenset[str]:
    """Events some active subscription wants. Cached for WEBHOOKS_SUBSCRIBED_CACHE_SECONDS, and
    forgotten whenever a subscription changes (a process with its own local cache sees a change
    within that time)."""
    events = cache.get(SUBSCRIBED_CACHE_KEY)
    if events is None:
        events = set()
        for wanted in WebhookSubscription.objects.filter(active=True).values_list("events", flat=True):
            events.update(wanted)
        events = frozenset(events)
        cache.set(SUBSCRIBED_CACHE_KEY, events, conf.subscribed_cache_seconds())
    return events


def forget_subscribed_events() -> None:
    cache.delete(SUBSCRIBED_CACHE_KEY)


def emit(event: str, payload: dict) -> int:
    """One event; returns the number of deliveries queued (0 when nobody listens)."""
    return emit_many(event, [payload])


def emit_many(event: str, payloads: Iterable[dict]) -> int:
    """A batch of one kind of event (an import's contacts, a send's deliveries): one insert for all."""
    if event not in EVENTS:
        raise ValueError(f"Unknown webhook event {event!r}")
    if event not in subscribed_events():
        return 0
    payloads = list(payloads)
    if not payloads:
        return 0
    # A handful of subscriptions at most; SQLite cannot search inside a JSON list.
    subscriptions = [s.pk for s in WebhookSubscription.objects.filter(active=True).order_by().only("pk", "events")
                     if event in s.events]
    if not subscriptions:
        return 0
    now = timezone.now()
    stamp = datetime.now(UTC).isoformat(timespec="seconds")
    rows = [WebhookMessage(subscription_id=subscription, event=event, message_id=f"msg_{uuid.uuid4().hex}",
                           body={"type": event, "timestamp": stamp, "data": payload}, next_attempt_at=now)
            for payload in payloads for subscription in subscriptions]
    WebhookMessage.objects.bulk_create(rows, batch_size=2000)
    deliver_after_commit()
    return len(rows)


def _deliver_due() -> None:
    async_task("webhooks.tasks.deliver_due", group="webhooks")


def deliver_after_commit() -> None:
    """Asks the worker, once, to deliver what is due when the caller's transaction commits: a loop
    emitting a thousand events in one transaction queues one task, not a thousand."""
    if connection.in_atomic_block and any(func is _deliver_due for _, func, _ in connection.run_on_commit):
        return
    transaction.on_commit(_deliver_due)
