"""An SMS send: set up, started (its audience frozen to those who opted in), worked message by message
exactly once, reconciled when an outcome is unknown, and moved on by the provider's status callbacks.

Exactly once: each message is marked "sending" in a commit of its own right before its request, so a
worker that stops (or a request that times out) leaves it "sending" or "needs checking", never queued to
go again. Such a message is looked up at the provider (the account's message list, by number, body and
time); found, it is taken as accepted; not found, it stays "needs checking" until a person sends it again
or drops it. Nothing counts as sent before the provider answered with the message's id.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from aicmo_site.errors import ConflictError, DomainError
from aicmo_site.transitions import Action, Workflow
from crm.choices import SmsConsentStatus
from crm.models import SmsConsent
from crm.selectors import audience_contacts, contacts_textable
from crm.services.sms import sms_consent_set
from gateways import services as gateways
from gateways.capabilities import Capability, OutgoingSms
from gateways.errors import GatewayError, OutcomeUnknown, ProviderRejected
from gateways.readiness import Readiness, capability_readiness
from publishing.channel_sends import (
    channel_deliveries_work,
    channel_send_cancel,
    channel_send_complete_if_done,
    channel_send_wake,
    channel_send_workflow,
)
from publishing.services import campaign_create
from publishing.sms import conf
from publishing.sms.choices import (
    SMS_DELIVERY_TERMINAL,
    SMS_DELIVERY_TRANSITIONS,
    SmsDeliveryStatus,
    SmsSendStatus,
)
from publishing.sms.models import SmsDelivery, SmsSend
from publishing.sms.segments import sms_length

_CHANGE = "publishing.change_smssend"
SMS_SEND_WORKFLOW = channel_send_workflow(SmsSend, noun="SMS send", permission=_CHANGE)


SMS_DELIVERY_WORKFLOW = Workflow(
    model=SmsDelivery, transitions=SMS_DELIVERY_TRANSITIONS, terminal=SMS_DELIVERY_TERMINAL, noun="SMS delivery",
    actions=[
        Action("send_again", "Send again (I checked: it was not sent)", to=SmsDeliveryStatus.QUEUED,
               permission=_CHANGE, sources={SmsDeliveryStatus.NEEDS_CHECKING}),
        Action("give_up", "Mark as failed", to=SmsDeliveryStatus.FAILED, permission=_CHANGE,
               sources={SmsDeliveryStatus.NEEDS_CHECKING}),
    ],
)
STATUS_CALLBACK_MOVES = {
    "sent": SmsDeliveryStatus.SENT, "delivered": SmsDeliveryStatus.DELIVERED,
    "undelivered": SmsDeliveryStatus.UNDELIVERED, "failed": SmsDeliveryStatus.FAILED,
}
OPTED_OUT_CODE = "21610"


def status_callback_url() -> str:
    from django.urls import reverse

    return conf.public_base_url() + reverse("sms-status")


@transaction.atomic
def sms_send_plan(*, by, name: str, audience: dict, body: str, campaign=None) -> SmsSend:
    """Create (or, not yet started, change) the SMS of a campaign; a new campaign when none is given."""
    body = body.strip()
    if not body:
        raise DomainError("Write the message.", code="invalid_body", extra={"field": "body"})
    if sms_length(body).segments > 10:
        raise DomainError("The message is longer than 10 segments; shorten it.", code="invalid_body",
                          extra={"field": "body"})
    if campaign is None:
        campaign = campaign_create(by=by, name=name, audience={k: v for k, v in audience.items() if v})
    send, _created = SmsSend.objects.select_for_update().get_or_create(campaign=campaign, defaults={"body": body})
    if send.status != SmsSendStatus.DRAFT:
        raise ConflictError("This SMS has already been sent.", code="already_sent")
    send.body = body
    send.full_clean()
    send.save()
    return send


def sms_sending_readiness() -> Readiness:
    return capability_readiness(Capability.SMS_SENDING)


def sms_audience_size(audience: dict) -> dict[str, int]:
    picked = audience_contacts(audience)
    textable = contacts_textable(picked).values("sms_number").distinct().count()
    total = picked.count()
    return {"picked": total, "textable": textable, "left_out": max(total - textable, 0)}


@transaction.atomic
def sms_send_start(*, send: SmsSend, by=None) -> SmsSend:
    """Freeze the audience (one delivery per opted-in number) and wake a worker after the commit."""
    if by is not None:
        SMS_SEND_WORKFLOW.check_action(send, "send", by)
    readiness = sms_sending_readiness()
    if not readiness.ready:
        raise ConflictError(readiness.reason, code="no_provider", extra={"fix_url": readiness.fix_url})
    picked = audience_contacts(send.campaign.audience or {})
    rows = contacts_textable(picked).order_by("pk").values_list("pk", "sms_number")
    seen: set[str] = set()
    batch: list[SmsDelivery] = []
    for contact_id, number in rows.iterator(chunk_size=2000):
        if number in seen:  # two contacts sharing a phone get one message
            continue
        seen.add(number)
        batch.append(SmsDelivery(send=send, contact_id=contact_id, to=number))
    SmsDelivery.objects.bulk_create(batch, batch_size=1000, ignore_conflicts=True)
    total = picked.count()
    send = SMS_SEND_WORKFLOW.transition(send, SmsSendStatus.SENDING, by=by, fields={
        "audience_size": len(seen), "left_out": max(total - len(seen), 0), "started_at": timezone.now(),
        "requested_by": by})
    transaction.on_commit(lambda: sms_send_wake(send.pk))
    return send


def sms_send_wake(send_id: int) -> None:
    channel_send_wake("publishing.sms.tasks.sms_send_work_task", send_id, channel="sms")


@transaction.atomic
def sms_send_cancel(*, send: SmsSend, by=None) -> SmsSend:
    return channel_send_cancel(send=send, workflow=SMS_SEND_WORKFLOW, delivery_workflow=SMS_DELIVERY_WORKFLOW, by=by)


def _move(delivery: SmsDelivery, to: str, **fields) -> bool:
    """Move one delivery when the table allows it from its current status; False leaves it as it is."""
    with transaction.atomic():
        row = SmsDelivery.objects.select_for_update().get(pk=delivery.pk)
        if not SMS_DELIVERY_WORKFLOW.allowed(row.status, to):
            return False
        SMS_DELIVERY_WORKFLOW.transition(row, to, locked=True, fields=fields)
    return True


@dataclass
class WorkReport:
    accepted: int = 0
    failed: int = 0
    deferred: int = 0
    skipped: int = 0
    needs_checking: int = 0
    stopped_because: str = ""


def _still_opted_in(delivery: SmsDelivery) -> str:
    if SmsConsent.objects.filter(number=delivery.to, consent=SmsConsentStatus.OPTED_IN).exists():
        return ""
    return "SMS consent was withdrawn before sending"


def _record(delivery: SmsDelivery, outcome, report: WorkReport) -> bool:
    """Write what came of one request; False when the worker should stop for now (no provider)."""
    if isinstance(outcome, GatewayError):
        if isinstance(outcome, OutcomeUnknown):
            _move(delivery, SmsDeliveryStatus.NEEDS_CHECKING, provider=outcome.provider, error=str(outcome))
            report.needs_checking += 1
            return True
        if isinstance(outcome, ProviderRejected):
            if outcome.details.get("opted_out"):
                sms_consent_set(number=delivery.to, status=SmsConsentStatus.OPTED_OUT,
                                source=f"{outcome.provider or 'The SMS provider'} refused: the number unsubscribed")
            _move(delivery, SmsDeliveryStatus.FAILED, provider=outcome.provider, error=str(outcome))
            report.failed += 1
            return True
        # Unavailable everywhere: nothing was sent, so it goes back to the queue to wait.
        wait = timedelta(seconds=outcome.retry_after or conf.retry_seconds())
        _move(delivery, SmsDeliveryStatus.QUEUED, error=str(outcome), next_attempt_at=timezone.now() + wait)
        report.deferred += 1
        report.stopped_because = "no provider available"
        return False
    if outcome.skipped:
        _move(delivery, SmsDeliveryStatus.QUEUED, error=f"Not sent: {outcome.reason}",
              next_attempt_at=timezone.now() + timedelta(seconds=conf.retry_seconds()))
        report.deferred += 1
        report.stopped_because = "no provider configured"
        return False
    receipt = outcome.value
    _move(delivery, SmsDeliveryStatus.ACCEPTED, message_id=receipt.message_id, provider=outcome.provider,
          provider_status=receipt.status, segments=receipt.segments, error="")
    report.accepted += 1
    return True


def sms_send_work(*, send_id: int, limit: int | None = None) -> WorkReport:
    """Send the due deliveries one by one until none is due, the send stops or no provider can take them.
    Safe to run in several workers at once (rows are claimed with SKIP LOCKED)."""
    report = WorkReport()
    send = SmsSend.objects.get(pk=send_id)
    callback = status_callback_url()
    made = channel_deliveries_work(
        due=SmsDelivery.objects.filter(send=send, status=SmsDeliveryStatus.QUEUED, send__status=SmsSendStatus.SENDING),
        workflow=SMS_DELIVERY_WORKFLOW, quiet_hours=conf.quiet_hours(), counts=report, limit=limit,
        skip_reason=_still_opted_in,
        sending_fields=lambda delivery, now: {"first_attempt_at": delivery.first_attempt_at or now},
        request=lambda delivery: gateways.sms_send(OutgoingSms(to=delivery.to, body=send.body,
                                                               status_callback=callback)),
        record=lambda delivery, outcome: _record(delivery, outcome, report))
    if not report.stopped_because and (limit is None or made < limit):
        report.stopped_because = "nothing due"
    sms_deliveries_reconcile(send_id=send_id)
    sms_send_complete_if_done(send_id=send_id)
    return report


def sms_send_complete_if_done(*, send_id: int) -> bool:
    return channel_send_complete_if_done(model=SmsSend, workflow=SMS_SEND_WORKFLOW, send_id=send_id)


def sms_deliveries_reconcile(*, send_id: int, stale_after: timedelta = timedelta(minutes=10)) -> int:
    """Look up the messages whose outcome is unknown; returns how many were found. A "sending" mark older
    than `stale_after` is a worker that stopped mid-request: it needs checking too."""
    cutoff = timezone.now() - stale_after
    SMS_DELIVERY_WORKFLOW.bulk_transition(
        SmsDelivery.objects.filter(send_id=send_id, status=SmsDeliveryStatus.SENDING, updated_at__lt=cutoff),
        SmsDeliveryStatus.NEEDS_CHECKING, sources=[SmsDeliveryStatus.SENDING])
    body = SmsSend.objects.values_list("body", flat=True).get(pk=send_id)
    found = 0
    for delivery in SmsDelivery.objects.filter(send_id=send_id, status=SmsDeliveryStatus.NEEDS_CHECKING):
        try:
            receipt = gateways.sms_lookup(to=delivery.to, body=body, provider=delivery.provider,
                                          sent_after=delivery.first_attempt_at or delivery.updated_at)
        except GatewayError as exc:
            SmsDelivery.objects.filter(pk=delivery.pk).update(error=f"{delivery.error}\nLook-up failed: {exc}"[:2000])
            continue
        if receipt is not None and _move(delivery, SmsDeliveryStatus.ACCEPTED, message_id=receipt.message_id,
                                         provider=receipt.provider, provider_status=receipt.status,
                                         segments=receipt.segments, error=""):
            found += 1
    return found


@transaction.atomic
def sms_delivery_act(*, delivery: SmsDelivery, action: str, by) -> SmsDelivery:
    """A person's decision on a message that needs checking: send it again, or give it up."""
    SMS_DELIVERY_WORKFLOW.check_action(delivery, action, by)
    target = SMS_DELIVERY_WORKFLOW.action(action).to
    fields = {"next_attempt_at": None} if target == SmsDeliveryStatus.QUEUED else {}
    delivery = SMS_DELIVERY_WORKFLOW.transition(delivery, target, by=by, fields=fields)
    if target == SmsDeliveryStatus.QUEUED:
        transaction.on_commit(lambda: sms_send_wake(delivery.send_id))
    return delivery


def sms_status_callback_apply(*, message_id: str, status: str, error_code: str = "") -> bool:
    """The provider's word on a message it accepted; True when it moved the delivery. Repeated, late or
    unknown callbacks change nothing."""
    target = STATUS_CALLBACK_MOVES.get(status)
    delivery = SmsDelivery.objects.filter(message_id=message_id).first() if message_id else None
    if delivery is None:
        return False
    if error_code == OPTED_OUT_CODE:
        sms_consent_set(number=delivery.to, status=SmsConsentStatus.OPTED_OUT,
                        source="The SMS provider reported the number unsubscribed")
    if target is None:
        return False
    error = f"Provider error {error_code}" if error_code else ""
    return _move(delivery, target, provider_status=status, error=error)
