"""Claiming deliveries: a lease (lease_owner, lease_expires_at) taken with SELECT … FOR UPDATE SKIP
LOCKED, so two workers never hold the same delivery, and given back unspent when a worker stops."""

import os
import socket
import uuid
from datetime import timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from publishing.email import conf
from publishing.email.choices import DELIVERY_UNSENT, DeliveryStatus
from publishing.email.models import EmailDelivery

SOON_SECONDS = 5


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def _claimable(campaign_id: int, now):
    return (EmailDelivery.objects.filter(campaign_id=campaign_id, status=DeliveryStatus.QUEUED, held=False)
            .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
            .filter(Q(lease_expires_at__isnull=True) | Q(lease_expires_at__lt=now)))


def work_coming_soon(campaign_id: int) -> bool:
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


def release(delivery_ids: list[int], owner: str, *, delay: timedelta | None = None) -> None:
    fields = {"lease_owner": "", "lease_expires_at": None}
    if delay:
        fields["next_attempt_at"] = timezone.now() + delay
    EmailDelivery.objects.filter(id__in=delivery_ids, lease_owner=owner, status=DeliveryStatus.QUEUED
                                 ).update_in_id_order(**fields)
