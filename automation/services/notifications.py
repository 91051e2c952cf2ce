"""Sending notify steps' digests, by email or to a Slack channel, at most once each.

A digest is claimed (pending -> sending, committed) before the email goes out and marked sent or failed
after, no transaction held across the send. A worker killed between the two leaves it "sending": once its
lease has passed it becomes outcome unknown, shown as such, and is never sent again on a guess (the same
discipline as the email sender's deliveries)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone
from django_q.tasks import async_task

from automation.choices import NotificationStatus
from automation.models import JourneyNotification
from crm.models import Contact
from gateways.capabilities import ChannelPost, OutgoingEmail
from gateways.errors import GatewayError, OutcomeUnknown
from gateways.services import publish_post
from gateways.services.email import open_email_session

# A claimed digest is its worker's for this long; past it the worker is taken for dead.
LEASE = timedelta(minutes=10)
# A digest names this many contacts and counts the rest: the page of the journey lists them all.
LISTED = 50


@dataclass
class NotificationReport:
    sent: int = 0
    failed: int = 0
    unknown: int = 0


def _send_due() -> None:
    async_task("automation.tasks.journey_notifications_send", group="journey-notifications")


def notifications_send_after_commit() -> None:
    """Asks the worker once per transaction, however many notify steps the batch went through."""
    if connection.in_atomic_block and any(func is _send_due for _, func, _ in connection.run_on_commit):
        return
    transaction.on_commit(_send_due)


def _claim(now) -> int | None:
    """One digest at a time: a worker killed mid-send leaves only the digest it was sending "sending" (to
    be marked outcome unknown), never a batch of claimed ones that were not even tried."""
    with transaction.atomic():
        pk = (JourneyNotification.objects.select_for_update(skip_locked=True)
              .filter(status=NotificationStatus.PENDING).order_by("created_at", "pk")
              .values_list("pk", flat=True).first())
        if pk is not None:
            JourneyNotification.objects.filter(pk=pk).update(status=NotificationStatus.SENDING, claimed_at=now)
    return pk


def digest_text(notification: JourneyNotification) -> tuple[str, str]:
    step, ids = notification.step, notification.contact_ids
    journey = step.journey
    subject = f"{journey.name}: {len(ids)} contact{'s' if len(ids) != 1 else ''} reached “{step.key}”"
    note = str(step.config.get("message") or "").strip()
    people = [f"- {contact.email} {contact.first_name} {contact.last_name}".rstrip()
              for contact in Contact.objects.filter(pk__in=ids[:LISTED]).order_by("email")]
    more = [f"… and {len(ids) - LISTED} more"] if len(ids) > LISTED else []
    page = settings.PUBLIC_BASE_URL + reverse("automation:journey-detail", args=[journey.pk])
    return subject, "\n".join([*([note, ""] if note else []), *people, *more, "", page])


def journey_notifications_send() -> NotificationReport:
    """Sends every pending digest and settles the ones whose worker died; running it twice sends nothing
    twice (claims)."""
    report = NotificationReport()
    now = timezone.now()
    report.unknown += JourneyNotification.objects.filter(
        status=NotificationStatus.SENDING, claimed_at__lt=now - LEASE).update(
        status=NotificationStatus.UNKNOWN, error="The worker stopped while sending; it may or may not have gone.")
    while (pk := _claim(timezone.now())) is not None:
        _send(JourneyNotification.objects.select_related("step__journey", "user").get(pk=pk), report)
    return report


def _deliver(notification: JourneyNotification) -> str:
    """Sends the digest by email or posts it to Slack; returns why it was not sent, or "" when it was."""
    subject, body = digest_text(notification)
    if notification.user_id:
        with open_email_session() as session:
            session.send(OutgoingEmail(to=notification.user.email, subject=f"[AICMO] {subject}", text=body,
                                       from_email=settings.DEFAULT_FROM_EMAIL))
        return ""
    if notification.slack_account_id is None:
        return "The Slack account of this step was removed."
    result = publish_post(account_id=notification.slack_account_id, post=ChannelPost(
        idempotency_key=f"journey-notification-{notification.pk}", text=f"*{subject}*\n{body}"))
    return f"Not posted: {result.reason}" if result.skipped else ""


def _send(notification: JourneyNotification, report: NotificationReport) -> None:
    try:
        not_sent = _deliver(notification)
    except GatewayError as exc:
        unknown = isinstance(exc, OutcomeUnknown)
        JourneyNotification.objects.filter(pk=notification.pk, status=NotificationStatus.SENDING).update(
            status=NotificationStatus.UNKNOWN if unknown else NotificationStatus.FAILED, error=exc.message[:2000])
        if unknown:
            report.unknown += 1
        else:
            report.failed += 1
        return
    if not_sent:
        JourneyNotification.objects.filter(pk=notification.pk, status=NotificationStatus.SENDING).update(
            status=NotificationStatus.FAILED, error=not_sent[:2000])
        report.failed += 1
        return
    JourneyNotification.objects.filter(pk=notification.pk, status=NotificationStatus.SENDING).update(
        status=NotificationStatus.SENT, sent_at=timezone.now())
    report.sent += 1
