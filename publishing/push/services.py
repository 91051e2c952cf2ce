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
from aicmo_site.transitions import Action, Workflow
from crm.models import PushSubscription
from crm.selectors import audience_contacts
from crm.services.push import push_subscription_remove
from gateways import services as gateways
from gateways.errors import GatewayError, OutcomeUnknown, ProviderRejected
from publishing.push.choices import (
    PUSH_DELIVERY_TERMINAL,
    PUSH_DELIVERY_TRANSITIONS,
    PUSH_SEND_TERMINAL,
    PUSH_SEND_TRANSITIONS,
    PushDeliveryStatus,
    PushSendStatus,
)
from publishing.push.models import PushDelivery, PushSend
from publishing.services import campaign_create

RETRY_SECONDS = 300
_CHANGE = "publishing.change_pushsend"
PUSH_SEND_WORKFLOW = Workflow(
    model=PushSend, transitions=PUSH_SEND_TRANSITIONS, terminal=PUSH_SEND_TERMINAL, noun="push send",
    actions=[
        Action("send", "Send now", to=PushSendStatus.SENDING, permission=_CHANGE, sources={PushSendStatus.DRAFT}),
        Action("cancel", "Cancel", to=PushSendStatus.CANCELED, permission=_CHANGE),
    ],
)
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
    from django_q.tasks import async_task

    async_task("publishing.push.tasks.push_send_work_task", send_id, task_name=f"push-send-{send_id}")


@transaction.atomic
def push_send_cancel(*, send: PushSend, by=None) -> PushSend:
    if by is not None:
        PUSH_SEND_WORKFLOW.check_action(send, "cancel", by)
    send = PUSH_SEND_WORKFLOW.transition(send, PushSendStatus.CANCELED, by=by,
                                         fields={"finished_at": timezone.now()})
    PUSH_DELIVERY_WORKFLOW.bulk_transition(send.deliveries.all(), PushDeliveryStatus.CANCELED,
                                           sources=[PushDeliveryStatus.QUEUED], by=by)
    return send


@dataclass
class PushReport:
    accepted: int = 0
    expired: int = 0
    failed: int = 0
    unknown: int = 0
    skipped: int = 0
    stopped_because: str = ""


def _claim_next(send: PushSend, report: PushReport) -> PushDelivery | None:
    while True:
        with transaction.atomic():
            delivery = (PushDelivery.objects.select_for_update(skip_locked=True, of=("self",))
                        .select_related("subscription")
                        .filter(send=send, status=PushDeliveryStatus.QUEUED, send__status=PushSendStatus.SENDING)
                        .exclude(next_attempt_at__gt=timezone.now()).order_by("id").first())
            if delivery is None:
                return None
            if delivery.subscription is None:  # withdrawn or erased since the start
                PUSH_DELIVERY_WORKFLOW.transition(delivery, PushDeliveryStatus.SKIPPED, locked=True,
                                                  fields={"error": "The browser's subscription was withdrawn"})
                report.skipped += 1
                continue
            return PUSH_DELIVERY_WORKFLOW.transition(delivery, PushDeliveryStatus.SENDING, locked=True,
                                                     fields={"attempts": delivery.attempts + 1})


def _move(delivery: PushDelivery, to: str, **fields) -> None:
    PUSH_DELIVERY_WORKFLOW.transition(delivery, to, fields=fields)


def push_send_work(*, send_id: int) -> PushReport:
    report = PushReport()
    send = PushSend.objects.get(pk=send_id)
    message = {"title": send.title, "body": send.body, "url": send.url}
    while True:
        delivery = _claim_next(send, report)
        if delivery is None:
            break
        subscription = delivery.subscription
        target = gateways.PushTarget(endpoint=subscription.endpoint, p256dh=subscription.p256dh,
                                     auth=subscription.auth)
        try:
            gateways.push_send(target, message)
        except OutcomeUnknown as exc:
            _move(delivery, PushDeliveryStatus.OUTCOME_UNKNOWN, error=str(exc))
            report.unknown += 1
        except ProviderRejected as exc:
            if exc.details.get("gone"):
                push_subscription_remove(endpoint=subscription.endpoint)
                _move(delivery, PushDeliveryStatus.EXPIRED, error=str(exc))
                report.expired += 1
            else:
                _move(delivery, PushDeliveryStatus.FAILED, error=str(exc))
                report.failed += 1
        except GatewayError as exc:
            # The push service could not take it: nothing was shown; it waits and goes again.
            wait = timedelta(seconds=exc.retry_after or RETRY_SECONDS)
            _move(delivery, PushDeliveryStatus.QUEUED, error=str(exc), next_attempt_at=timezone.now() + wait)
        else:
            _move(delivery, PushDeliveryStatus.ACCEPTED, error="")
            report.accepted += 1
    push_send_complete_if_done(send_id=send_id)
    return report


def push_send_complete_if_done(*, send_id: int) -> bool:
    with transaction.atomic():
        send = PushSend.objects.select_for_update().get(pk=send_id)
        if send.status != PushSendStatus.SENDING or send.deliveries.filter(
                status__in=[PushDeliveryStatus.QUEUED, PushDeliveryStatus.SENDING]).exists():
            return False
        PUSH_SEND_WORKFLOW.transition(send, PushSendStatus.COMPLETED, locked=True,
                                      fields={"finished_at": timezone.now()})
    return True
