"""The send loop: workers claim deliveries from the database, never from the queue.

Exactly once, as far as SMTP allows:
- A claim is a lease (lease_owner, lease_expires_at) taken with SELECT … FOR UPDATE SKIP LOCKED on
  PostgreSQL; on SQLite the claiming transaction holds the write lock (IMMEDIATE), and the UPDATE
  repeats every condition, so two workers never hold the same delivery.
- A worker sends over EMAIL_CONNECTIONS_PER_WORKER SMTP connections, in rounds of one message per
  connection. Each message is marked "sending" and committed before its SMTP transaction starts, and
  marked "sent" with the provider's message id right after it: the window in which the outcome cannot
  be known is one message per connection, whatever the batch size. The last round's "sent" marks and
  this round's "sending" marks are one statement (_record_and_start), so one commit per round; the
  round's messages then go out side by side, each session yielding while it waits for its server
  (gateways.mail.steps), so the waits overlap without threads. A worker killed mid-round leaves at
  most one outcome unknown per connection.
- A delivery found "sending" past its lease was maybe accepted by the server before its worker died:
  it becomes outcome_unknown and is never sent again (services.campaigns.leases_recover).
- Messages are rendered before the connection opens, so no template or database work stretches the
  window either.
- EMAIL_SYNCHRONOUS_COMMIT=0 (PostgreSQL) turns synchronous_commit off for the worker's connection
  while it sends: a commit then returns once its WAL record is in the server, not yet on disk. A
  killed worker loses nothing (the server commits what it received); a crash of PostgreSQL itself may
  lose the marks of the last fraction of a second (up to 3 × wal_writer_delay), and a message whose
  "sending" was lost is sent again. Hence on by default.
"""

from __future__ import annotations

import logging
import os
import socket
import time
import uuid
from collections import deque
from collections.abc import Generator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache

from django.db import connection, transaction
from django.db.models import Q, prefetch_related_objects
from django.utils import timezone

from gateways.capabilities import OutgoingEmail, SendReceipt
from gateways.errors import GatewayError, NoProviderAvailable, OutcomeUnknown, ProviderRejected
from gateways.mail.steps import at_once
from publishing.email import conf
from publishing.email.choices import DELIVERY_UNSENT, DeliveryStatus, SendStatus
from publishing.email.composing import LinkBook, content_of, links_in, outgoing_for, render_for
from publishing.email.models import EmailCampaign, EmailDelivery
from publishing.email.recipients import recipients_for
from publishing.email.services.campaigns import email_campaign_complete_if_done, leases_recover
from publishing.email.services.gateway import email_gateway

logger = logging.getLogger("publishing.email")
PAUSE_CHECK_SECONDS = 0.5
LEASE_POLL_SECONDS = 0.5
SOON_SECONDS = 5
PACE_BURST_SECONDS = 1.0


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


@dataclass
class WorkerReport:
    sent: int = 0
    failed: int = 0
    retried: int = 0
    unknown: int = 0
    stopped_because: str = ""
    claimed_batches: int = 0
    provider_wait: float = 0.0  # how long the providers asked us to wait after the last refusal


def retry_delay(attempts: int) -> timedelta:
    return timedelta(seconds=min(conf.retry_base_seconds() * 2 ** max(attempts - 1, 0), 3600))


def _claimable(campaign_id: int, now):
    return (EmailDelivery.objects.filter(campaign_id=campaign_id, status=DeliveryStatus.QUEUED, held=False)
            .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
            .filter(Q(lease_expires_at__isnull=True) | Q(lease_expires_at__lt=now)))


def _work_coming_soon(campaign_id: int) -> bool:
    """Claims held by other workers (live, or dead and expiring) or retries due within a few seconds."""
    soon = timezone.now() + timedelta(seconds=SOON_SECONDS)
    unsent = EmailDelivery.objects.filter(campaign_id=campaign_id, status__in=DELIVERY_UNSENT)
    return unsent.filter(Q(lease_expires_at__isnull=False) | Q(held=False, next_attempt_at__lte=soon)).exists()


def claim_batch(*, campaign_id: int, owner: str, size: int) -> list[int]:
    now = timezone.now()
    with transaction.atomic():
        ids = list(_claimable(campaign_id, now).select_for_update(skip_locked=True).order_by("id")
                   .values_list("id", flat=True)[:size])
        if not ids:
            return []
        _claimable(campaign_id, now).filter(id__in=ids).update(
            lease_owner=owner, lease_expires_at=now + timedelta(seconds=conf.lease_seconds()))
    return list(EmailDelivery.objects.filter(id__in=ids, lease_owner=owner, status=DeliveryStatus.QUEUED)
                .values_list("id", flat=True))


class CampaignSender:
    """One worker's view of one send: compiled content per variant, the link book, pacing."""

    def __init__(self, email_campaign: EmailCampaign, owner: str):
        self.email_campaign = email_campaign
        self.owner = owner
        self.campaign_name = email_campaign.campaign.name
        self.links = LinkBook(email_campaign.campaign_id)
        self._contents: dict[int | None, object] = {}
        rate = conf.rate_per_second()
        self.interval = conf.send_concurrency() / rate if rate > 0 else 0.0
        self._next_slot = time.monotonic()
        self._last_status_check = time.monotonic()
        # Kept from one batch to the next: opening a session reads the accounts and their health and
        # connects, about a tenth of a worker's time when it happened for every batch (py-spy).
        self.sessions: list = [None] * conf.connections_per_worker()

    def session(self, slot: int):
        if self.sessions[slot] is None:
            self.sessions[slot] = email_gateway().open_email_session()
        return self.sessions[slot]

    def close_sessions(self, *, failed_over_only: bool = False) -> None:
        """All sessions, or (between batches) those that moved off an account, so the next batch tries
        the first account again instead of staying on a fallback for the rest of the run."""
        for slot, session in enumerate(self.sessions):
            if session is not None and (not failed_over_only or getattr(session, "attempts", None)):
                self.sessions[slot] = None
                session.close()

    def content_for(self, variant):
        key = variant.pk if variant else None
        if key not in self._contents:
            template = (variant.template if variant and variant.template_id else None) or self.email_campaign.template
            self._contents[key] = content_of(template, subject_override=variant.subject if variant else "")
        return self._contents[key]

    def compose(self, deliveries: list[EmailDelivery]) -> list[tuple[EmailDelivery, OutgoingEmail | None, str]]:
        """(delivery, message, error): a delivery whose template cannot render fails alone."""
        all_blocks = [block for d in deliveries for block in self.content_for(d.variant).blocks]
        # A contact's tags are read only when a template or block can use them (about a tenth of a worker's
        # time otherwise: a join and a model instance per tag).
        with_tags = any(self.content_for(d.variant).uses_tags for d in deliveries)
        if with_tags:
            prefetch_related_objects(deliveries, "contact__tags")
        recipients = recipients_for([d.contact for d in deliveries], all_blocks, with_tags=with_tags)
        rendered = []
        for delivery in deliveries:
            try:
                rendered.append((delivery, render_for(self.content_for(delivery.variant),
                                                      recipients[delivery.contact_id],
                                                      campaign_name=self.campaign_name, delivery_id=delivery.pk), ""))
            except Exception as exc:  # noqa: BLE001 - one contact's bad data must not sink the batch
                rendered.append((delivery, None, f"Could not render: {exc}"))
        link_ids = self.links.ids_for(set().union(*(links_in(r.html) for _d, r, _e in rendered if r)))
        return [(d, outgoing_for(email_campaign=self.email_campaign, rendered=r, to=d.contact.email,
                                 delivery_id=d.pk, link_ids=link_ids) if r else None, error)
                for d, r, error in rendered]

    def pace(self) -> None:
        if not self.interval:
            return
        now = time.monotonic()
        if self._next_slot > now:
            time.sleep(self._next_slot - now)
        # Slots missed while rendering the next batch may be caught up, at most PACE_BURST_SECONDS' worth:
        # the rate holds over a minute without ever exceeding it by more than that burst.
        self._next_slot = max(self._next_slot, now - PACE_BURST_SECONDS) + self.interval

    def still_sending(self) -> bool:
        if time.monotonic() - self._last_status_check < PAUSE_CHECK_SECONDS:
            return True
        self._last_status_check = time.monotonic()
        status = EmailCampaign.objects.values_list("status", flat=True).get(pk=self.email_campaign.pk)
        return status == SendStatus.SENDING


def _mine(delivery_id: int, owner: str, *statuses):
    return EmailDelivery.objects.filter(pk=delivery_id, lease_owner=owner, status__in=statuses)


# The previous round's "sent" marks and this round's "sending" marks, in one autocommitted statement:
# written with the ORM, the UPDATEs, their transaction and building them took half of a worker's time
# (py-spy), and with synchronous_commit each commit waits for the disk, so a round of K connections
# commits once, not 2K times. Each row keeps the conditions of _mine: this worker's lease, and
# "queued" to start, "sending" (or recovered as unknown) to record. RETURNING says which starts happened.
_RECORDED_FIELDS = ("message_id", "provider", "provider_response", "sent_at", "failover_note")


@lru_cache(maxsize=64)
def _round_sql(table: str, starts: int, records: int) -> str:
    def ids(count: int) -> str:
        return f"id IN ({', '.join(['%s'] * count)})" if count else "FALSE"

    def per_row(count: int, otherwise: str) -> str:
        return f"CASE id {' '.join(['WHEN %s THEN %s'] * count)} ELSE {otherwise} END" if count else otherwise

    started = ids(starts)
    return f"""UPDATE {table} SET
  status = CASE WHEN {started} THEN %s ELSE %s END,
  attempts = CASE WHEN {started} THEN attempts + 1 ELSE attempts END,
  message_id = {per_row(starts + records, "message_id")},
  provider = {per_row(records, "provider")},
  provider_response = {per_row(records, "provider_response")},
  sent_at = {per_row(records, "sent_at")},
  error = CASE WHEN {started} THEN error ELSE '' END,
  failover_note = {per_row(records, "failover_note")},
  lease_owner = CASE WHEN {started} THEN lease_owner ELSE '' END,
  lease_expires_at = CASE WHEN {started} THEN %s ELSE NULL END
WHERE lease_owner = %s AND (({started} AND status = %s) OR ({ids(records)} AND status IN (%s, %s)))
RETURNING id"""


def _record_and_start(pending: list, starts: list[tuple[EmailDelivery, OutgoingEmail]], owner: str) -> set[int]:
    """Committed before the SMTP transactions of `starts`: from here on none of them is sent again blindly,
    and the successes in `pending` (taken out of it) are recorded. The ids that started: a delivery is
    left out when its claim was lost (paused, or expired and taken by another worker)."""
    records, pending[:] = list(pending), []
    if not starts and not records:
        return set()
    ops = connection.ops
    start_ids = [delivery.pk for delivery, _message in starts]
    record_ids = [delivery_id for delivery_id, _fields in records]
    lease_expires_at = ops.adapt_datetimefield_value(timezone.now() + timedelta(seconds=conf.lease_seconds()))

    def per_row(name: str) -> list:
        return [value for delivery_id, fields in records for value in (
            delivery_id, ops.adapt_datetimefield_value(fields[name]) if name == "sent_at" else fields[name])]

    message_ids = [value for delivery, message in starts for value in (delivery.pk, message.message_id)]
    params = [
        *start_ids, DeliveryStatus.SENDING.value, DeliveryStatus.SENT.value,
        *start_ids,
        *message_ids, *per_row("message_id"),
        *per_row("provider"), *per_row("provider_response"), *per_row("sent_at"),
        *start_ids,
        *per_row("failover_note"),
        *start_ids,
        *start_ids, lease_expires_at,
        owner, *start_ids, DeliveryStatus.QUEUED.value,
        *record_ids, DeliveryStatus.SENDING.value, DeliveryStatus.OUTCOME_UNKNOWN.value,
    ]
    sql = _round_sql(ops.quote_name(EmailDelivery._meta.db_table), len(start_ids), len(record_ids))
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return {row[0] for row in cursor.fetchall()} & set(start_ids)


def _finish(delivery_id: int, owner: str, **fields) -> None:
    # outcome_unknown too: a slow worker whose lease was recovered did learn the answer after all.
    _mine(delivery_id, owner, DeliveryStatus.SENDING, DeliveryStatus.OUTCOME_UNKNOWN).update(**fields)


def _retry_or_fail(delivery: EmailDelivery, owner: str, error: GatewayError, report: WorkerReport) -> None:
    attempts = delivery.attempts + 1
    if attempts >= conf.max_attempts():
        _finish(delivery.pk, owner, status=DeliveryStatus.FAILED, error=str(error)[:2000], lease_owner="",
                lease_expires_at=None)
        report.failed += 1
        return
    _finish(delivery.pk, owner, status=DeliveryStatus.QUEUED, error=str(error)[:2000], lease_owner="",
            lease_expires_at=None, next_attempt_at=timezone.now() + retry_delay(attempts))
    report.retried += 1


def _release(delivery_ids: list[int], owner: str, *, delay: timedelta | None = None) -> None:
    fields = {"lease_owner": "", "lease_expires_at": None}
    if delay:
        fields["next_attempt_at"] = timezone.now() + delay
    EmailDelivery.objects.filter(id__in=delivery_ids, lease_owner=owner, status=DeliveryStatus.QUEUED).update(**fields)


@dataclass
class _Flight:
    """One started delivery on its way over one of the worker's connections."""

    delivery: EmailDelivery
    message: OutgoingEmail
    slot: int
    steps: Generator
    attempts_before: int
    receipt: SendReceipt | None = None
    error: GatewayError | None = None


def _steps_of(session, message: OutgoingEmail) -> Generator:
    send_steps = getattr(session, "send_steps", None)
    return send_steps(message) if send_steps else at_once(session.send, message)


def _fly(flights: list[_Flight]) -> None:
    """Advance every connection's send one step at a time, in turn: while one waits for its server's
    answer, the others' commands and messages are already on their way."""
    flying = list(flights)
    while flying:
        still = []
        for flight in flying:
            try:
                next(flight.steps)
            except StopIteration as stop:
                flight.receipt = stop.value
            except GatewayError as exc:
                flight.error = exc
            else:
                still.append(flight)
        flying = still


def _settle(session, flight: _Flight, owner: str, report: WorkerReport, pending: list) -> bool:
    """Record how one started delivery went. False when no provider could take it.

    Failures are written at once; a success is left in `pending` and committed together with the next
    round's starts: one commit per round instead of two per message, and still nothing between the
    SMTP server's answer and that commit but one message per connection."""
    delivery, error = flight.delivery, flight.error
    if isinstance(error, OutcomeUnknown):
        _finish(delivery.pk, owner, status=DeliveryStatus.OUTCOME_UNKNOWN, error=str(error)[:2000], lease_owner="",
                lease_expires_at=None)
        report.unknown += 1
    elif isinstance(error, ProviderRejected):
        _finish(delivery.pk, owner, status=DeliveryStatus.FAILED, error=str(error)[:2000], provider=error.provider,
                lease_owner="", lease_expires_at=None)
        report.failed += 1
    elif isinstance(error, NoProviderAvailable):
        _retry_or_fail(delivery, owner, error, report)
        report.provider_wait = max(retry_delay(1).total_seconds(), error.retry_after or 0)
        return False
    elif error is not None:
        _retry_or_fail(delivery, owner, error, report)
    else:
        tried = getattr(session, "attempts", [])[flight.attempts_before:]
        pending.append((delivery.pk, {
            "message_id": flight.receipt.message_id or flight.message.message_id, "provider": flight.receipt.provider,
            "provider_response": flight.receipt.response[:2000], "sent_at": timezone.now(),
            "failover_note": "; ".join(f"{name}: {why}" for name, why in tried)[:2000]}))
        report.sent += 1
    return True


def _record(pending: list, owner: str) -> None:
    """Write the "sent" marks waiting to be committed (at most one per connection: the last round's) when
    no next round carries them."""
    _record_and_start(pending, [], owner)


# What sending and rendering read of a batch (Recipient.from_contact): loading whole rows (every
# delivery column, the contact's JSON provenance and the like) was a tenth of a worker's time.
_BATCH_FIELDS = (
    "id", "attempts", "campaign_id", "contact_id", "variant_id", "variant__subject", "variant__template",
    *(f"contact__{name}" for name in ("email", "first_name", "last_name", "job_title", "city", "country",
                                      "custom_fields", "company", "company__name", "company__domain")),
)


def send_batch(sender: CampaignSender, delivery_ids: list[int], report: WorkerReport) -> bool:
    """Send one claimed batch over the worker's connections (EMAIL_CONNECTIONS_PER_WORKER), one message per
    connection at a time, in rounds. False when the worker should stop."""
    owner = sender.owner
    deliveries = list(EmailDelivery.objects.filter(id__in=delivery_ids, lease_owner=owner,
                                                   status=DeliveryStatus.QUEUED)
                      .select_related("contact__company", "variant__template").only(*_BATCH_FIELDS).order_by("id"))
    waiting = deque(sender.compose(deliveries))
    remaining = {d.pk for d in deliveries}
    sessions = sender.sessions
    refusals_in_a_row = 0
    pending: list = []
    try:
        while waiting:
            if not sender.still_sending():
                report.stopped_because = "paused or canceled"
                _record(pending, owner)
                _release(sorted(remaining), owner)
                return False
            starts = []
            while waiting and len(starts) < len(sessions):
                delivery, message, render_error = waiting.popleft()
                remaining.discard(delivery.pk)
                if message is None:
                    EmailDelivery.objects.filter(pk=delivery.pk, lease_owner=owner, status=DeliveryStatus.QUEUED
                                                 ).update(status=DeliveryStatus.FAILED, error=render_error[:2000],
                                                          lease_owner="", lease_expires_at=None)
                    report.failed += 1
                    continue
                sender.pace()
                starts.append((delivery, message))
            started = _record_and_start(pending, starts, owner)
            flights = []
            for slot, (delivery, message) in enumerate(starts):
                if delivery.pk not in started:
                    continue
                session = sender.session(slot)
                flights.append(_Flight(delivery, message, slot, _steps_of(session, message),
                                       len(getattr(session, "attempts", []))))
            _fly(flights)
            for flight in flights:
                if _settle(sessions[flight.slot], flight, owner, report, pending):
                    refusals_in_a_row = 0
                    continue
                refusals_in_a_row += 1
                # One temporary refusal (a 4xx for one message) used up the session's providers: start afresh.
                sessions[flight.slot].close()
                sessions[flight.slot] = None
            if refusals_in_a_row >= 2:
                # Every provider refused twice running: the rest waits rather than burning its attempts.
                _record(pending, owner)
                _release(sorted(remaining), owner, delay=timedelta(seconds=report.provider_wait))
                report.stopped_because = "no provider available"
                return False
    except BaseException:
        sender.close_sessions()  # a session stopped mid-send is out of step with its server
        raise
    finally:
        _record(pending, owner)
        sender.close_sessions(failed_over_only=True)
    return True


@contextmanager
def _commit_durability():
    """synchronous_commit off for this connection while it sends, when configured (see the module's docstring)."""
    relaxed = not conf.synchronous_commit() and connection.vendor == "postgresql"
    if relaxed:
        with connection.cursor() as cursor:
            cursor.execute("SET synchronous_commit = off")
    try:
        yield
    finally:
        if relaxed:
            # The worker process runs other tasks on this connection afterwards.
            with connection.cursor() as cursor:
                cursor.execute("RESET synchronous_commit")


def worker_run(*, email_campaign_id: int, owner: str | None = None,
               budget_seconds: float | None = None) -> WorkerReport:
    """Send until nothing is claimable, the send is paused or canceled, or the time budget is spent."""
    with _commit_durability():
        return _worker_loop(email_campaign_id=email_campaign_id, owner=owner or worker_name(),
                            budget_seconds=budget_seconds)


def _worker_loop(*, email_campaign_id: int, owner: str, budget_seconds: float | None) -> WorkerReport:
    report = WorkerReport()
    email_campaign = EmailCampaign.objects.select_related("campaign", "template").get(pk=email_campaign_id)
    deadline = time.monotonic() + (budget_seconds if budget_seconds is not None else conf.worker_budget_seconds())
    leases_recover(campaign_id=email_campaign.campaign_id)
    sender = CampaignSender(email_campaign, owner)
    try:
        return _send_until_done(sender, report, email_campaign, deadline)
    finally:
        sender.close_sessions()


def _send_until_done(sender: CampaignSender, report: WorkerReport, email_campaign: EmailCampaign,
                     deadline: float) -> WorkerReport:
    email_campaign_id, owner = email_campaign.pk, sender.owner
    while True:
        if EmailCampaign.objects.values_list("status", flat=True).get(pk=email_campaign_id) != SendStatus.SENDING:
            report.stopped_because = "not sending"
            return report
        if time.monotonic() > deadline:
            report.stopped_because = "time budget spent"
            return report
        claimed = claim_batch(campaign_id=email_campaign.campaign_id, owner=owner, size=conf.batch_size())
        if not claimed:
            leases_recover(campaign_id=email_campaign.campaign_id)
            if email_campaign_complete_if_done(email_campaign_id=email_campaign_id) or not _work_coming_soon(
                    email_campaign.campaign_id):
                report.stopped_because = "nothing left to claim"
                return report
            # Another worker holds claims (it is sending them, or it died and they come back when the lease
            # expires) or a retry is nearly due: waiting here beats waiting for the periodic wake-up.
            time.sleep(LEASE_POLL_SECONDS)
            continue
        report.claimed_batches += 1
        # After providers refused, the rest of the batch waits for its retry time: the loop claims nothing
        # until then and waits itself only when that is soon, leaving longer waits to the periodic wake-up.
        if not send_batch(sender, claimed, report) and report.stopped_because != "no provider available":
            return report
