"""A web-push send: set up, started (one delivery per subscribed browser of the audience), worked exactly
once. Each message is marked "sending" in its own commit right before its request; push services offer
no look-up, so one whose answer never came is "outcome unknown" and never sent again by itself. A
subscription its push service calls gone (404, 410) is removed, so nothing is pushed there again."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from aicmo_site.errors import ConflictError, DomainError
from aicmo_site.transitions import Workflow
from crm.models import PushSubscription
from crm.selectors import audience_contacts
from crm.services.push import push_subscription_remove
from gateways import services as gateways
from gateways.errors import GatewayError, OutcomeUnknown, ProviderRejected
from publishing.channel_sends import (
    channel_deliveries_work,
    channel_send_cancel,
    channel_send_complete_if_done,
    channel_send_wake,
    channel_send_workflow,
)
from publishing.push import conf
from publishing.push.choices import (
    PUSH_DELIVERY_TERMINAL,
    PUSH_DELIVERY_TRANSITIONS,
    PushDeliveryStatus,
    PushSendStatus,
)
from publishing.push.models import PushDelivery, PushSend
from publishing.services import campaign_create

RETRY_SECONDS = 300
_CHANGE = "publishing.change_pushsend"
PUSH_SEND_WORKFLOW = channel_send_workflow(PushSend, noun="push send", permission=_CHANGE)
PUSH_DELIVERY_WORKFLOW = Workflow(model=PushDelivery, transitions=PUSH_DELIVERY_TRANSITIONS,
                                  terminal=PUSH_DELIVERY_TERMINAL, noun="push delivery")


def _subscribed(contacts):
    return PushSubscription.objects.filter(contact__in=contacts.filter(erased_at__isnull=True))


@transaction.atomic
def push_send_plan(*, by, name: str, audience: dict, title: str, body: str = "", url: str = "",
                   campaign=None) -> PushSend:
    if not title.strip():
        raise DomainError("Write the notification's title.", code="invalid_title", extra={"field": "title"})
    if campaign is None:
        campaign = campaign_create(by=by, name=name, audience={k: v for k, v in audience.items() if v})
    send, _ = PushSend.objects.select_for_update().get_or_create(campaign=campaign, defaults={"title": title})
    if send.status != PushSendStatus.DRAFT:
        raise ConflictError("This notification has already been sent.", code="already_sent")
    send.title, send.body, send.url = title.strip(), body.strip(), url.strip()
    send.full_clean()
    send.save()
    return send


def push_audience_size(audience: dict) -> dict[str, int]:
    picked = audience_contacts(audience)
    browsers = _subscribed(picked).count()
    reached = picked.filter(Exists(PushSubscription.objects.filter(contact=OuterRef("pk")))).count()
    return {"picked": picked.count(), "browsers": browsers, "reached": reached}


@transaction.atomic
def push_send_start(*, send: PushSend, by=None) -> PushSend:
    if by is not None:
        PUSH_SEND_WORKFLOW.check_action(send, "send", by)
    subscriptions = _subscribed(audience_contacts(send.campaign.audience or {})).values_list("pk", "contact_id")
    deliveries = [PushDelivery(send=send, subscription_id=pk, contact_id=contact_id)
                  for pk, contact_id in subscriptions.iterator(chunk_size=2000)]
    PushDelivery.objects.bulk_create(deliveries, batch_size=1000, ignore_conflicts=True)
    send = PUSH_SEND_WORKFLOW.transition(send, PushSendStatus.SENDING, by=by, fields={
        "audience_size": len(deliveries), "started_at": timezone.now(), "requested_by": by})
    transaction.on_commit(lambda: push_send_wake(send.pk))
    return send


def push_send_wake(send_id: int) -> None:
    channel_send_wake("publishing.push.tasks.push_send_work_task", send_id, channel="push")


@transaction.atomic
def push_send_cancel(*, send: PushSend, by=None) -> PushSend:
    return channel_send_cancel(send=send, workflow=PUSH_SEND_WORKFLOW, delivery_workflow=PUSH_DELIVERY_WORKFLOW,
                               by=by)


@dataclass
class PushReport:
    accepted: int = 0
    expired: int = 0
    failed: int = 0
    unknown: int = 0
    skipped: int = 0
    deferred: int = 0
    stopped_because: str = ""


def _still_subscribed(delivery: PushDelivery) -> str:
    return "" if delivery.subscription_id is not None else "The browser's subscription was withdrawn"


def _move(delivery: PushDelivery, to: str, **fields) -> None:
    PUSH_DELIVERY_WORKFLOW.transition(delivery, to, fields=fields)


def _request(delivery: PushDelivery, message: dict) -> None:
    subscription = delivery.subscription
    gateways.push_send(gateways.PushTarget(endpoint=subscription.endpoint, p256dh=subscription.p256dh,
                                           auth=subscription.auth), message)


def _record(delivery: PushDelivery, outcome, report: PushReport) -> bool:
    if isinstance(outcome, OutcomeUnknown):
        _move(delivery, PushDeliveryStatus.OUTCOME_UNKNOWN, error=str(outcome))
        report.unknown += 1
    elif isinstance(outcome, ProviderRejected):
        if outcome.details.get("gone"):
            push_subscription_remove(endpoint=delivery.subscription.endpoint)
            _move(delivery, PushDeliveryStatus.EXPIRED, error=str(outcome))
            report.expired += 1
        else:
            _move(delivery, PushDeliveryStatus.FAILED, error=str(outcome))
            report.failed += 1
    elif isinstance(outcome, GatewayError):
        # The push service could not take it: nothing was shown; it waits and goes again.
        wait = timedelta(seconds=outcome.retry_after or RETRY_SECONDS)
        _move(delivery, PushDeliveryStatus.QUEUED, error=str(outcome), next_attempt_at=timezone.now() + wait)
    else:
        _move(delivery, PushDeliveryStatus.ACCEPTED, error="")
        report.accepted += 1
    return True


def push_send_work(*, send_id: int) -> PushReport:
    report = PushReport()
    send = PushSend.objects.get(pk=send_id)
    message = {"title": send.title, "body": send.body, "url": send.url}
    channel_deliveries_work(
        due=PushDelivery.objects.filter(send=send, status=PushDeliveryStatus.QUEUED,
                                        send__status=PushSendStatus.SENDING).select_related("subscription"),
        workflow=PUSH_DELIVERY_WORKFLOW, quiet_hours=conf.quiet_hours(), counts=report,
        skip_reason=_still_subscribed, request=lambda delivery: _request(delivery, message),
        record=lambda delivery, outcome: _record(delivery, outcome, report))
    push_send_complete_if_done(send_id=send_id)
    return report


def push_send_complete_if_done(*, send_id: int) -> bool:
    return channel_send_complete_if_done(model=PushSend, workflow=PUSH_SEND_WORKFLOW, send_id=send_id)
