"""One claimed batch going out over the worker's connections, each delivery marked as it goes (marks)."""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass
from datetime import timedelta

from django.db.models import F, prefetch_related_objects
from django.utils import timezone

from gateways.capabilities import OutgoingEmail, SendReceipt
from gateways.errors import (
    BudgetSpent,
    GatewayError,
    NoProviderAvailable,
    NoProviderConfigured,
    OutcomeUnknown,
    ProviderRejected,
)
from gateways.send_steps import SendSteps, Step
from publishing.email import conf
from publishing.email.choices import DeliveryStatus, SendStatus
from publishing.email.composing import (
    LinkBook,
    content_of,
    hrefs_in,
    outgoing_for,
    render_for,
    trackable_urls,
)
from publishing.email.models import EmailCampaign, EmailDelivery
from publishing.email.recipients import recipients_for
from publishing.email.sender.claiming import release
from publishing.email.sender.marks import WorkerMarks
from publishing.email.services.campaigns import email_campaign_pause_for_provider, email_sending_readiness
from publishing.email.services.gateway import email_gateway
from publishing.email.webhook_events import emails_sent_emit

NO_PROVIDER_CONFIGURED = "no provider configured"
TIME_BUDGET_SPENT = "time budget spent"
TURN_SPENT = "turn spent"
PACE_BURST_SECONDS = 1.0


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


class CampaignSender:
    """One worker's view of one send: compiled content per variant, the link book, pacing."""

    def __init__(self, email_campaign: EmailCampaign, owner: str, *, deadline: float | None = None,
                 out_of_time: str = TIME_BUDGET_SPENT):
        self.email_campaign = email_campaign
        self.owner = owner
        self.deadline = deadline
        self.out_of_time_reason = out_of_time
        self.campaign_name = email_campaign.campaign.name
        self.links = LinkBook(email_campaign.campaign_id)
        self._contents: dict[int | None, object] = {}
        rate = conf.rate_per_second()
        self.interval = conf.send_concurrency() / rate if rate > 0 else 0.0
        self._next_slot = time.monotonic()
        # Kept from one batch to the next: opening a session reads the accounts and their health and
        # connects, about a tenth of a worker's time when it happened for every batch (py-spy).
        self.sessions: list = [None] * conf.connections_per_worker()
        self.marks = WorkerMarks(synchronous_commit=conf.synchronous_commit())

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
            send = self.email_campaign
            self._contents[key] = content_of(template, subject_override=(variant.subject if variant else "")
                                             or send.subject, preheader_override=send.preheader)
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
        hrefs = {d.pk: hrefs_in(r.html) for d, r, _e in rendered if r}
        link_ids = self.links.ids_for(set().union(*(trackable_urls(found) for found in hrefs.values())))
        return [(d, outgoing_for(email_campaign=self.email_campaign, rendered=r, to=d.contact.email,
                                 delivery_id=d.pk, link_ids=link_ids, hrefs=hrefs[d.pk]) if r else None, error)
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

    def out_of_time(self) -> bool:
        return self.deadline is not None and time.monotonic() > self.deadline

    def still_sending(self) -> bool:
        status = EmailCampaign.objects.values_list("status", flat=True).get(pk=self.email_campaign.pk)
        return status == SendStatus.SENDING


def _mine(delivery_id: int, owner: str, *statuses):
    return EmailDelivery.objects.filter(pk=delivery_id, lease_owner=owner, status__in=statuses)


@dataclass(eq=False)  # one flight is itself only: looked up by identity among the others
class _Flight:
    """One claimed delivery on its way over one of the worker's connections."""

    delivery: EmailDelivery
    message: OutgoingEmail
    slot: int
    steps: SendSteps
    attempts_before: int
    step: Step | None = None  # what the send yielded last; None once it ended
    started: bool = False  # marked "sending" and committed: never sent again blindly
    receipt: SendReceipt | None = None
    error: GatewayError | None = None

    def advance(self) -> None:
        try:
            self.step = next(self.steps)
        except StopIteration as stop:
            self.step, self.receipt = None, stop.value
        except GatewayError as exc:
            self.step, self.error = None, exc

    def land(self) -> None:
        """Drive a started send to its end (after a failover it may pass BEFORE_END again: it is started)."""
        while self.step is not None:
            self.advance()

    def abandon(self) -> None:
        """Stop a send that never reached its end: the session drops the connection, nothing was accepted."""
        self.steps.close()
        self.step = None


def _finish(flight: _Flight, owner: str, **fields) -> None:
    if flight.started:
        # outcome_unknown too: a slow worker whose lease was recovered did learn the answer after all.
        statuses = (DeliveryStatus.SENDING, DeliveryStatus.OUTCOME_UNKNOWN)
    else:
        statuses, fields["attempts"] = (DeliveryStatus.QUEUED,), F("attempts") + 1
    _mine(flight.delivery.pk, owner, *statuses).update(**fields)


def _retry_or_fail(flight: _Flight, owner: str, error: GatewayError, report: WorkerReport) -> None:
    attempts = flight.delivery.attempts + 1
    if attempts >= conf.max_attempts():
        _finish(flight, owner, status=DeliveryStatus.FAILED, error=str(error)[:2000], lease_owner="",
                lease_expires_at=None)
        report.failed += 1
        return
    _finish(flight, owner, status=DeliveryStatus.QUEUED, error=str(error)[:2000], lease_owner="",
            lease_expires_at=None, next_attempt_at=timezone.now() + retry_delay(attempts))
    report.retried += 1


def _settle(session, flight: _Flight, owner: str, report: WorkerReport, pending: list) -> bool:
    """Record how one delivery's send ended. False when no provider could take it.

    Failures are written at once; a success is left in `pending` and committed together with the next
    group's "sending" marks: one commit per group, and nothing between the SMTP server's answer and that
    commit but this one group."""
    error = flight.error
    if isinstance(error, OutcomeUnknown):
        _finish(flight, owner, status=DeliveryStatus.OUTCOME_UNKNOWN, error=str(error)[:2000], lease_owner="",
                lease_expires_at=None)
        report.unknown += 1
    elif isinstance(error, NoProviderConfigured):
        # Not this message's fault, nor a passing outage: no attempt is spent, and the send pauses.
        _mine(flight.delivery.pk, owner, DeliveryStatus.QUEUED).update(lease_owner="", lease_expires_at=None,
                                                                        error=str(error)[:2000])
        report.stopped_because = NO_PROVIDER_CONFIGURED
        return False
    elif isinstance(error, ProviderRejected):
        _finish(flight, owner, status=DeliveryStatus.FAILED, error=str(error)[:2000], provider=error.provider,
                lease_owner="", lease_expires_at=None)
        report.failed += 1
    elif isinstance(error, NoProviderAvailable):
        report.provider_wait = max(retry_delay(1).total_seconds(), error.retry_after or 0)
        if not flight.started and error.attempts and all(isinstance(a, BudgetSpent) for a in error.attempts):
            # Every account is at its daily quota: refused before any request, so no attempt is spent
            # (a quota can stay used up for longer than the attempts would last); the send waits.
            _mine(flight.delivery.pk, owner, DeliveryStatus.QUEUED).update(
                lease_owner="", lease_expires_at=None, error=str(error)[:2000],
                next_attempt_at=timezone.now() + timedelta(seconds=report.provider_wait))
            return False
        _retry_or_fail(flight, owner, error, report)
        return False
    elif error is not None:
        _retry_or_fail(flight, owner, error, report)
    else:
        tried = getattr(session, "attempts", [])[flight.attempts_before:]
        pending.append((flight.delivery.pk, {
            "message_id": flight.receipt.message_id or flight.message.message_id, "provider": flight.receipt.provider,
            "provider_response": flight.receipt.response[:2000], "sent_at": timezone.now(),
            "failover_note": "; ".join(f"{name}: {why}" for name, why in tried)[:2000]}))
        report.sent += 1
    return True


# What sending and rendering read of a batch (Recipient.from_contact): loading whole rows (every
# delivery column, the contact's JSON provenance and the like) was a tenth of a worker's time.
_BATCH_FIELDS = (
    "id", "attempts", "campaign_id", "contact_id", "variant_id", "variant__subject", "variant__template",
    *(f"contact__{name}" for name in ("email", "first_name", "last_name", "job_title", "city", "country",
                                      "custom_fields", "company", "company__name", "company__domain")),
)


class _BatchSend:
    """One claimed batch going out over the worker's connections (EMAIL_CONNECTIONS_PER_WORKER).

    Each connection carries one delivery at a time, written up to just before its end while it is only
    claimed; a kill then leaves an unended message, which the server discards, and a claim that comes
    back when the lease expires. The deliveries are then ended a group at a time (those ready, at most
    EMAIL_STARTS_PER_COMMIT): commit the last group's "sent" and this group's "sending" marks (one
    statement), write the ends, read the answers. So a worker never has more deliveries whose outcome a
    kill could hide than one group, however many connections it has, while the other connections'
    commands and content go out during the waits."""

    def __init__(self, sender: CampaignSender, delivery_ids: list[int], report: WorkerReport):
        self.sender, self.owner, self.report = sender, sender.owner, report
        deliveries = list(EmailDelivery.objects.filter(id__in=delivery_ids, lease_owner=self.owner,
                                                       status=DeliveryStatus.QUEUED)
                          .select_related("contact__company", "variant__template").only(*_BATCH_FIELDS)
                          .order_by("id"))
        self.waiting = deque(sender.compose(deliveries))
        self.flights: list[_Flight] = []  # on their way, in the order they were boarded
        self.going: list[_Flight] = []  # marked "sending" together, their outcomes not recorded yet
        self.pending: list = []  # the last "sent" mark, committed with the next start
        self.refusals_in_a_row = 0
        self.starts_per_commit = min(conf.starts_per_commit(), len(sender.sessions))

    def run(self) -> bool:
        """False when the worker should stop (paused or canceled, or every provider refused)."""
        try:
            while self.waiting or self.flights:
                if self.sender.out_of_time():
                    # Checked between messages, not only between batches: behind a slow provider a batch
                    # would hold the worker for minutes. What is not started is given back.
                    self.report.stopped_because = self.sender.out_of_time_reason
                    self._stop()
                    return False
                ready = self._mark_next()
                # While the database commits those marks, the other connections' messages go out.
                for flight in self.flights:
                    if flight not in self.going and flight not in ready and flight.step is Step.WAITING:
                        flight.advance()
                self._board()
                if ready and not self._start(ready) and not self.sender.still_sending():
                    self.report.stopped_because = "paused or canceled"
                    self._stop()
                    return False
                # Every end is written before any answer is read: the server takes them side by side.
                for step in (Step.BEFORE_END, Step.WAITING):
                    for flight in self.going:
                        if flight.step is step:
                            flight.advance()
                self._settle_ended()
                if self.report.stopped_because == NO_PROVIDER_CONFIGURED:
                    self._pause_without_provider()
                    return False
                if self.refusals_in_a_row >= 2:
                    # Every provider refused twice running: the rest waits rather than burning its attempts.
                    self.report.stopped_because = "no provider available"
                    self._stop(delay=timedelta(seconds=self.report.provider_wait))
                    return False
        except BaseException:
            self.sender.close_sessions()  # a session stopped mid-send is out of step with its server
            raise
        finally:
            self.sender.marks.write(self.pending, [], self.owner)
            self.sender.close_sessions(failed_over_only=True)
        return True

    def _board(self) -> None:
        """Put the next deliveries on the free connections: their commands are written, answered later."""
        busy = {flight.slot for flight in self.flights}
        for slot in range(len(self.sender.sessions)):
            if slot in busy:
                continue
            while self.waiting:
                delivery, message, render_error = self.waiting.popleft()
                if message is None:
                    EmailDelivery.objects.filter(pk=delivery.pk, lease_owner=self.owner, status=DeliveryStatus.QUEUED
                                                 ).update(status=DeliveryStatus.FAILED, error=render_error[:2000],
                                                          attempts=F("attempts") + 1, lease_owner="",
                                                          lease_expires_at=None)
                    self.report.failed += 1
                    continue
                self.sender.pace()
                session = self.sender.session(slot)
                flight = _Flight(delivery, message, slot, session.send_steps(message),
                                 len(getattr(session, "attempts", [])))
                flight.advance()
                self.flights.append(flight)
                break

    def _mark_next(self) -> list[_Flight]:
        """Send the "sending" marks of the ready deliveries (with the last ones' "sent"), if none is going."""
        if self.going:
            return []
        ready = [flight for flight in self.flights if flight.step is Step.BEFORE_END][:self.starts_per_commit]
        if ready:
            self.sender.marks.send(self.pending, [(flight.delivery, flight.message) for flight in ready], self.owner)
        return ready

    def _start(self, ready: list[_Flight]) -> bool:
        """False when a start was refused: the send is no longer "sending" (paused or canceled), or the
        claim was lost (its lease expired and another worker took it)."""
        started = self.sender.marks.wait()
        for flight in ready:
            if flight.delivery.pk in started:
                flight.started = True
                self.going.append(flight)
            else:
                flight.abandon()
                self.flights.remove(flight)
        return len(self.going) == len(ready)

    def _settle_ended(self) -> None:
        for flight in [flight for flight in self.flights if flight.step is None]:
            self.flights.remove(flight)
            if flight in self.going:
                self.going.remove(flight)
            session = self.sender.sessions[flight.slot]
            if _settle(session, flight, self.owner, self.report, self.pending):
                self.refusals_in_a_row = 0
                continue
            if self.report.stopped_because == NO_PROVIDER_CONFIGURED:
                continue  # released unspent; run() pauses the send
            self.refusals_in_a_row += 1
            # One temporary refusal (a 4xx for one message) used up the session's providers: start afresh.
            session.close()
            self.sender.sessions[flight.slot] = None

    def _pause_without_provider(self) -> None:
        """The send's provider went away (disabled, deleted, or only a placeholder left): pause the send
        with the reason, give back the rest of the batch unspent."""
        readiness = email_sending_readiness()
        reason = readiness.reason or "The sending account answered that it sends nothing."
        email_campaign_pause_for_provider(email_campaign_id=self.sender.email_campaign.pk, reason=reason)
        self._stop()

    def _stop(self, *, delay: timedelta | None = None) -> None:
        """Land the deliveries that are going, abandon those that never reached their end and give back the rest."""
        for flight in self.going:
            flight.land()
        for flight in self.flights:
            if flight not in self.going and flight.step is not None:
                flight.abandon()
        given_back = [flight.delivery.pk for flight in self.flights if not flight.started]
        self.flights = [flight for flight in self.flights if flight.started]
        self._settle_ended()
        self.sender.marks.write(self.pending, [], self.owner)
        release(sorted(given_back + [delivery.pk for delivery, _message, _error in self.waiting]), self.owner,
                 delay=delay)
        self.waiting.clear()


def send_batch(sender: CampaignSender, delivery_ids: list[int], report: WorkerReport) -> bool:
    """Send one claimed batch. False when the worker should stop."""
    try:
        return _BatchSend(sender, delivery_ids, report).run()
    finally:
        emails_sent_emit(delivery_ids)
