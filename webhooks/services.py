"""Subscriptions (Admins manage them) and delivery of the outbox, with retries and a log."""

from __future__ import annotations

import base64
import json
import secrets
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from aicmo_site.errors import DomainError
from aicmo_site.transitions import Action, Workflow
from gateways import crypto
from gateways.adapters.webhook import SECRET_PREFIX, signature
from gateways.errors import GatewayError
from gateways.http import ProviderHttp
from webhooks import conf
from webhooks.events import deliver_after_commit, forget_subscribed_events
from webhooks.events_catalogue import EVENTS
from webhooks.models import (
    MESSAGE_TERMINAL,
    MESSAGE_TRANSITIONS,
    MessageStatus,
    WebhookDelivery,
    WebhookMessage,
    WebhookOutbox,
    WebhookSubscription,
)

RESPONSE_KEPT_CHARS = 500


def _not_given_up(source: str, target: str, allowed: list) -> DomainError:
    return DomainError("Only a message that gave up can be retried.", code="not_failed")


# The sender's marks (delivered, given up) are written per attempt by `_deliver`, with the attempt itself
# as their record (WebhookDelivery); a retry by hand is a person's move and goes through here.
MESSAGE_WORKFLOW = Workflow(
    model=WebhookMessage, transitions=MESSAGE_TRANSITIONS, terminal=MESSAGE_TERMINAL, noun="webhook message",
    actions=[Action("retry", "Retry", to=MessageStatus.PENDING)], refused=_not_given_up,
)


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(24)).decode()


def _clean_events(events) -> list[str]:
    unknown = sorted(set(events) - set(EVENTS))
    if unknown:
        raise DomainError(f"Unknown event types: {', '.join(unknown)}.", code="unknown_event",
                          extra={"known": sorted(EVENTS)})
    if not events:
        raise DomainError("Pick at least one event.", code="no_events")
    return [event for event in EVENTS if event in set(events)]


@transaction.atomic
def subscription_create(*, name: str, url: str, events: list[str], active: bool = True,
                        by=None) -> tuple[WebhookSubscription, str]:
    """The new subscription and its signing secret, which is shown this once."""
    secret = new_secret()
    subscription = WebhookSubscription(name=name, url=url, events=_clean_events(events), active=active,
                                       created_by=by if by and by.is_authenticated else None,
                                       secret_encrypted=crypto.encrypt_json({"secret": secret}))
    subscription.full_clean()
    subscription.save()
    transaction.on_commit(forget_subscribed_events)
    return subscription, secret


@transaction.atomic
def subscription_update(*, subscription: WebhookSubscription, **fields) -> WebhookSubscription:
    if "events" in fields:
        fields["events"] = _clean_events(fields["events"])
    for name, value in fields.items():
        if name not in {"name", "url", "events", "active"}:
            raise DomainError(f"{name} cannot be changed.", code="read_only")
        setattr(subscription, name, value)
    subscription.full_clean()
    subscription.save()
    transaction.on_commit(forget_subscribed_events)
    return subscription


@transaction.atomic
def subscription_rotate_secret(*, subscription: WebhookSubscription) -> str:
    """A new signing secret, shown this once; messages not yet delivered are signed with it."""
    secret = new_secret()
    subscription.secret_encrypted = crypto.encrypt_json({"secret": secret})
    subscription.save(update_fields=["secret_encrypted", "updated"])
    return secret


@transaction.atomic
def subscription_delete(*, subscription: WebhookSubscription) -> None:
    subscription.delete()
    transaction.on_commit(forget_subscribed_events)


@dataclass
class DeliveryCounts:
    delivered: int = 0
    retrying: int = 0
    failed: int = 0


def outbox_expand(*, limit: int = 100) -> int:
    """Turns emitted batches into one message per event and subscription wanting it; returns the batches done."""
    now = timezone.now()
    with transaction.atomic():
        batches = list(WebhookOutbox.objects.select_for_update(skip_locked=True).order_by("pk")[:limit])
        if not batches:
            return 0
        subscriptions = list(WebhookSubscription.objects.filter(active=True).order_by().only("pk", "events"))
        messages = []
        for batch in batches:
            wanted = [subscription.pk for subscription in subscriptions if batch.event in subscription.events]
            stamp = batch.emitted_at.isoformat(timespec="seconds")
            messages += [WebhookMessage(subscription_id=subscription, event=batch.event,
                                        message_id=f"msg_{uuid.uuid4().hex}", next_attempt_at=now,
                                        body={"type": batch.event, "timestamp": stamp, "data": payload})
                         for payload in batch.payloads for subscription in wanted]
        WebhookMessage.objects.bulk_create(messages, batch_size=1000)
        WebhookOutbox.objects.filter(pk__in=[batch.pk for batch in batches]).delete()
    return len(batches)


def messages_queue(*, subscription: WebhookSubscription, event: str, messages: list[tuple[str, dict]]) -> int:
    """Messages addressed to one subscription whatever events it lists (a journey's webhook step), written in
    the caller's transaction and delivered after it commits. Each `(message_id, data)` carries the caller's
    own id: it is unique, so the same message can never be queued twice, and the receiver drops a retry of
    it by its webhook-id."""
    if event not in EVENTS:
        raise ValueError(f"Unknown webhook event {event!r}")
    now = timezone.now()
    stamp = now.isoformat(timespec="seconds")
    WebhookMessage.objects.bulk_create(
        [WebhookMessage(subscription=subscription, event=event, message_id=message_id, next_attempt_at=now,
                        body={"type": event, "timestamp": stamp, "data": data}) for message_id, data in messages],
        batch_size=1000)
    if messages:
        deliver_after_commit()
    return len(messages)


def _lease() -> timedelta:
    """How long a claimed message stays its worker's: one POST timing out and its outcome written, with room
    to spare. The worker renews it for the rest of its batch as it goes, so when a worker is killed the
    messages it had not tried yet are taken up within one lease (minutes with a fixed claim per batch); the
    one it was POSTing is sent again then, and the receiver drops the duplicate by its webhook-id."""
    return timedelta(seconds=3 * conf.timeout_seconds() + 10)


def _claim(limit: int, retries_due_by) -> tuple[list[int], datetime]:
    now = timezone.now()
    held_until = now + _lease()
    # New messages are taken whenever they arrive; retries only if due when the run began.
    due = Q(next_attempt_at__lte=retries_due_by) | Q(attempts=0, next_attempt_at__lte=now)
    with transaction.atomic():
        ids = list(WebhookMessage.objects.select_for_update(skip_locked=True)
                   .filter(due, status=MessageStatus.PENDING)
                   .order_by("next_attempt_at", "pk").values_list("pk", flat=True)[:limit])
        WebhookMessage.objects.filter(pk__in=ids).update(next_attempt_at=held_until)
    return ids, held_until


def _lease_renew(ids: list[int], held_until) -> tuple[set[int], datetime]:
    """Extends the lease on a batch's untried messages; returns those still held. A message whose lease
    lapsed and that another worker claimed (its own `next_attempt_at`) is that worker's now."""
    renewed_until = timezone.now() + _lease()
    with transaction.atomic():
        held = set(WebhookMessage.objects.select_for_update()
                   .filter(pk__in=ids, status=MessageStatus.PENDING, next_attempt_at=held_until)
                   .values_list("pk", flat=True))
        WebhookMessage.objects.filter(pk__in=held).update(next_attempt_at=renewed_until)
    return held, renewed_until


def messages_deliver_due(*, limit: int | None = None) -> DeliveryCounts:
    """Delivers every new message (those emitted while it runs too) and every retry due when called, a
    claimed batch at a time, no transaction held across a POST. A retry that comes due meanwhile waits for
    the next call, so a receiver that keeps failing is not hammered within one run."""
    counts = DeliveryCounts()
    retries_due_by = timezone.now()
    while True:
        while outbox_expand():
            pass
        ids, held_until = _claim(limit or conf.batch_size(), retries_due_by)
        if not ids:
            return counts
        untried = list(WebhookMessage.objects.select_related("subscription").filter(pk__in=ids).order_by("pk"))
        while untried:
            if timezone.now() >= held_until - _lease() / 2:
                held, held_until = _lease_renew([message.pk for message in untried], held_until)
                untried = [message for message in untried if message.pk in held]
                continue
            outcome = message_deliver(message=untried.pop(0))
            setattr(counts, outcome, getattr(counts, outcome) + 1)


def _post(message: WebhookMessage) -> WebhookDelivery:
    subscription = message.subscription
    body = json.dumps(message.body, separators=(",", ":"), ensure_ascii=False).encode()
    timestamp = int(time.time())
    headers = {"Content-Type": "application/json", "webhook-id": message.message_id,
               "webhook-timestamp": str(timestamp),
               "webhook-signature": signature([subscription.signing_secret()], message.message_id, timestamp, body)}
    # The URL's path is often the receiver's only secret: it never reaches the log.
    http = ProviderHttp(provider=subscription.name, label="Webhook receiver", timeout=conf.timeout_seconds(),
                        secrets=[subscription.url])
    delivery = WebhookDelivery(message=message)
    started = time.monotonic()
    try:
        response = http.request("POST", subscription.url, data=body, headers=headers, idempotent=True)
    except GatewayError as exc:
        delivery.status_code = exc.status
        delivery.error = exc.message
    else:
        delivery.status_code = response.status_code
        delivery.response_body = response.text[:RESPONSE_KEPT_CHARS]
        delivery.succeeded = True
    finally:
        http.close()
    delivery.duration_ms = round((time.monotonic() - started) * 1000)
    return delivery


def message_deliver(*, message: WebhookMessage) -> str:
    """POSTs one message, logs the answer, and decides: delivered, retry later (with backoff), or failed."""
    delivery = _post(message)
    delays = conf.retry_delays_seconds()
    now = timezone.now()
    with transaction.atomic():
        delivery.save()
        message.attempts += 1
        message.last_status_code = delivery.status_code
        message.last_error = delivery.error
        if delivery.succeeded:
            message.status, message.delivered_at, message.next_attempt_at = MessageStatus.DELIVERED, now, None
            outcome = "delivered"
        elif message.attempts > len(delays):
            message.status, message.next_attempt_at = MessageStatus.FAILED, None
            outcome = "failed"
        else:
            message.next_attempt_at = now + timedelta(seconds=delays[message.attempts - 1])
            outcome = "retrying"
        message.save(update_fields=["attempts", "last_status_code", "last_error", "status", "delivered_at",
                                    "next_attempt_at"])
    return outcome


@transaction.atomic
def message_retry(*, message: WebhookMessage, by=None, via: str = "") -> WebhookMessage:
    """Sends a failed message again now (an Admin fixed the receiver); recorded with who asked."""
    MESSAGE_WORKFLOW.check_action(message, "retry", by)
    message = MESSAGE_WORKFLOW.transition(message, MessageStatus.PENDING, by=by, via=via, note="Retried by hand",
                                          fields={"next_attempt_at": timezone.now()})
    deliver_after_commit()
    return message
