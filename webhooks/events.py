"""The business events a subscription may ask for, and `emit`, which every domain app calls.

Emitting writes an outbox row in the caller's transaction (so an event exists exactly when the change
it reports was committed) and asks the worker to deliver it after commit. It costs one cached lookup
when nobody subscribed to the event, and one small insert per batch when someone did.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.core.cache import cache
from django.db import connection, transaction
from django_q.tasks import async_task

from webhooks import conf
from webhooks.events_catalogue import EVENTS
from webhooks.models import WebhookOutbox, WebhookSubscription

SUBSCRIBED_CACHE_KEY = "webhooks:subscribed-events"
DELIVERY_ASKED_CACHE_KEY = "webhooks:delivery-asked"


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
    """One event; returns 1 when it was queued, 0 when nobody listens."""
    return emit_many(event, [payload])


def emit_many(event: str, payloads: Iterable[dict]) -> int:
    """A batch of one kind of event (a send's deliveries, a segment's newcomers): one small insert for all,
    in the caller's transaction. Returns how many events were queued (0 when nobody listens)."""
    if event not in EVENTS:
        raise ValueError(f"Unknown webhook event {event!r}")
    if event not in subscribed_events():
        return 0
    payloads = list(payloads)
    if not payloads:
        return 0
    WebhookOutbox.objects.create(event=event, payloads=payloads)
    deliver_after_commit()
    return len(payloads)


def _deliver_due() -> None:
    # At most one request a second per process: a worker sending a thousand emails a second emits five
    # batches a second, and one delivery task picks up every batch that arrives while it runs.
    if cache.add(DELIVERY_ASKED_CACHE_KEY, True, timeout=1):
        async_task("webhooks.tasks.deliver_due", group="webhooks")


def deliver_after_commit() -> None:
    """Asks the worker, once, to deliver what is due when the caller's transaction commits: a loop
    emitting a thousand events in one transaction queues one task, not a thousand."""
    if connection.in_atomic_block and any(func is _deliver_due for _, func, _ in connection.run_on_commit):
        return
    transaction.on_commit(_deliver_due)
