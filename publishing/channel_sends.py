"""What a send to one channel's audience (SMS, web push) shares with every other: its status and moves, the
send row and the per-recipient delivery row, the send's own steps (cancel, wake, complete) and the one loop
that works its deliveries exactly once.

Exactly once: each delivery is claimed with SELECT ... FOR UPDATE SKIP LOCKED (so two workers never take
the same row) and marked "sending" in a commit of its own, before the channel's request is made. A worker
that stops mid-request leaves it "sending", never "queued", so nothing sends it again by itself; each
channel decides what an unknown outcome becomes (looked up, or left for a person).
"""

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models, transaction
from django.utils import timezone

from aicmo_site.env import env_int
from aicmo_site.transitions import Action, Workflow
from gateways.errors import GatewayError


class ChannelSendStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    SENDING = "sending", "Sending"
    COMPLETED = "completed", "Completed"
    CANCELED = "canceled", "Canceled"


CHANNEL_SEND_TRANSITIONS: dict[str, set[str]] = {
    ChannelSendStatus.DRAFT: {ChannelSendStatus.SENDING, ChannelSendStatus.CANCELED},
    ChannelSendStatus.SENDING: {ChannelSendStatus.COMPLETED, ChannelSendStatus.CANCELED},
    ChannelSendStatus.COMPLETED: set(),
    ChannelSendStatus.CANCELED: set(),
}
CHANNEL_SEND_TERMINAL = frozenset({ChannelSendStatus.COMPLETED, ChannelSendStatus.CANCELED})
# The delivery statuses every channel has, under the same values: waiting, and claimed for its request.
QUEUED, SENDING, SKIPPED, CANCELED = "queued", "sending", "skipped", "canceled"
OPEN = (QUEUED, SENDING)


class ChannelSend(models.Model):
    """A campaign's message to one channel; the concrete send adds its campaign link and message."""

    status = models.CharField(max_length=12, choices=ChannelSendStatus.choices, default=ChannelSendStatus.DRAFT,
                              editable=False, db_index=True)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+", editable=False)
    started_at = models.DateTimeField(null=True, blank=True, editable=False)
    finished_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        abstract = True
        ordering = ["-created_at", "-id"]


class ChannelDelivery(models.Model):
    """One recipient of a send, frozen when it starts; the concrete delivery adds its send and status."""

    contact = models.ForeignKey("crm.Contact", null=True, on_delete=models.SET_NULL, related_name="+")
    attempts = models.PositiveSmallIntegerField(default=0, editable=False)
    next_attempt_at = models.DateTimeField(null=True, blank=True, editable=False,
                                           help_text="Waiting until then: quiet hours or a provider's outage")
    error = models.TextField(blank=True, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True
        ordering = ["id"]


def channel_send_workflow(model, *, noun: str, permission: str) -> Workflow:
    return Workflow(model=model, transitions=CHANNEL_SEND_TRANSITIONS, terminal=CHANNEL_SEND_TERMINAL, noun=noun,
                    actions=[
                        Action("send", "Send now", to=ChannelSendStatus.SENDING, permission=permission,
                               sources={ChannelSendStatus.DRAFT}),
                        Action("cancel", "Cancel", to=ChannelSendStatus.CANCELED, permission=permission),
                    ])


def channel_send_wake(task: str, send_id: int, *, channel: str) -> None:
    """One worker task per send; the name makes a second wake of the same send easy to tell in the queue."""
    from django_q.tasks import async_task

    async_task(task, send_id, task_name=f"{channel}-send-{send_id}")


def channel_send_cancel(*, send, workflow: Workflow, delivery_workflow: Workflow, by=None):
    """Stops what has not started; a delivery already marked sending is left to its worker."""
    if by is not None:
        workflow.check_action(send, "cancel", by)
    send = workflow.transition(send, ChannelSendStatus.CANCELED, by=by, fields={"finished_at": timezone.now()})
    delivery_workflow.bulk_transition(send.deliveries.all(), CANCELED, sources=[QUEUED], by=by)
    return send


def channel_send_complete_if_done(*, model, workflow: Workflow, send_id: int) -> bool:
    """Completed once no delivery waits or is in flight; True when this call completed it."""
    with transaction.atomic():
        send = model.objects.select_for_update().get(pk=send_id)
        if send.status != ChannelSendStatus.SENDING or send.deliveries.filter(status__in=OPEN).exists():
            return False
        workflow.transition(send, ChannelSendStatus.COMPLETED, locked=True, fields={"finished_at": timezone.now()})
    return True


# ---- quiet hours ----------------------------------------------------------------------------------------

def quiet_hours_setting(prefix: str) -> tuple[int, int]:
    """(start, end) local hours from `<prefix>_QUIET_HOURS_START` and `_END` (Django settings, then the
    environment): 21 to 9 by default, the evening and night hours many countries' telemarketing rules
    protect."""
    start_name, end_name = f"{prefix}_QUIET_HOURS_START", f"{prefix}_QUIET_HOURS_END"
    start = getattr(settings, start_name, env_int(start_name, 21, minimum=0))
    end = getattr(settings, end_name, env_int(end_name, 9, minimum=0))
    if not (0 <= start <= 23 and 0 <= end <= 23):
        raise ImproperlyConfigured(f"{start_name} and {end_name} are hours from 0 to 23; set both to the same "
                                   "hour to send at any time.")
    return start, end


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name or settings.TIME_ZONE)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(settings.TIME_ZONE)


def quiet_until(now: datetime, time_zone: str, hours: tuple[int, int]) -> datetime | None:
    """When the quiet hours around `now` end for someone in `time_zone` (blank: the team's), or None when
    `now` is not in them. hours: (start, end) local hours; equal means never quiet."""
    start, end = hours
    if start == end:
        return None
    local = now.astimezone(_zone(time_zone))
    quiet = start <= local.hour or local.hour < end if start > end else start <= local.hour < end
    if not quiet:
        return None
    ends = local.replace(hour=end, minute=0, second=0, microsecond=0)
    if ends <= local:
        ends += timedelta(days=1)
    return ends  # zoneinfo gives a wall-clock hour its own offset, so a DST change in between is right


# ---- the claim-and-mark loop ----------------------------------------------------------------------------

class ClaimCounts(Protocol):
    deferred: int
    skipped: int


def _claim_next(*, due: models.QuerySet, workflow: Workflow, quiet_hours: tuple[int, int],
                skip_reason: Callable[[Any], str], sending_fields: Callable[[Any, datetime], dict],
                counts: ClaimCounts):
    """The next due delivery, marked "sending" in its own commit; those in their contact's quiet hours wait
    for the end, those `skip_reason` names are skipped on the way. None when nothing is due."""
    while True:
        now = timezone.now()
        with transaction.atomic():
            delivery = (due.select_for_update(skip_locked=True, of=("self",)).select_related("contact")
                        .exclude(next_attempt_at__gt=now).order_by("id").first())
            if delivery is None:
                return None
            wait = quiet_until(now, delivery.contact.time_zone if delivery.contact else "", quiet_hours)
            if wait is not None:
                delivery.next_attempt_at = wait
                delivery.save(update_fields=["next_attempt_at", "updated_at"])
                counts.deferred += 1
                continue
            reason = skip_reason(delivery)
            if reason:
                workflow.transition(delivery, SKIPPED, locked=True, fields={"error": reason})
                counts.skipped += 1
                continue
            return workflow.transition(delivery, SENDING, locked=True, fields={
                "attempts": delivery.attempts + 1, "next_attempt_at": None, **sending_fields(delivery, now)})


def channel_deliveries_work(*, due: models.QuerySet, workflow: Workflow, quiet_hours: tuple[int, int],
                            request: Callable[[Any], Any], record: Callable[[Any, Any], bool], counts: ClaimCounts,
                            skip_reason: Callable[[Any], str] = lambda delivery: "",
                            sending_fields: Callable[[Any, datetime], dict] = lambda delivery, now: {},
                            limit: int | None = None) -> int:
    """Claim, mark and send the due deliveries one by one; returns how many requests were made.

    `due`: the deliveries of one send that may go (queued, their send sending). `request(delivery)` is the
    channel's adapter call, made after the "sending" commit and outside any transaction; what it returns,
    or the gateway error it raises, goes to `record(delivery, outcome)`, which returns False to stop the loop
    (nobody can take the work now). Safe in several workers at once.
    """
    made = 0
    while limit is None or made < limit:
        delivery = _claim_next(due=due, workflow=workflow, quiet_hours=quiet_hours, skip_reason=skip_reason,
                               sending_fields=sending_fields, counts=counts)
        if delivery is None:
            break
        made += 1
        try:
            outcome = request(delivery)
        except GatewayError as exc:  # anything else stops the worker, leaving the mark to be reconciled
            outcome = exc
        if not record(delivery, outcome):
            break
    return made
