"""Email's data retention: deliveries of old sends trimmed to their outcomes.

A trimmed delivery keeps what the reports and the send's page count (status, when it was sent, the
first open and click and their counts, the error of a failure, the message id that the provider's late
reports are matched by) and loses the provider's raw answers, the failover notes and the leases; the
provider reports and inbox messages recorded for it lose their content (a reply's text, a bounce's
diagnostics), keeping their kind and time. Each batch is one short transaction.
"""

from django.db import transaction
from django.db.models import Q

from aicmo_site.audit import audit_operation
from aicmo_site.models import RetentionKind
from aicmo_site.retention import retention_time_up
from publishing.email.choices import DELIVERY_TERMINAL
from publishing.email.models import EmailDelivery, InboundEvent

_DETAILED = (~Q(provider_response="") | ~Q(failover_note="") | ~Q(lease_owner="") | Q(lease_expires_at__isnull=False)
             | Q(next_attempt_at__isnull=False))
_TRIMMED = {"provider_response": "", "failover_note": "", "lease_owner": "", "lease_expires_at": None,
            "next_attempt_at": None}


def old_deliveries(cutoff):
    """Finished deliveries created before `cutoff` that still hold more than their outcome."""
    return EmailDelivery.objects.filter(status__in=DELIVERY_TERMINAL, created_at__lt=cutoff).filter(_DETAILED)


def old_inbound_events(cutoff):
    return InboundEvent.objects.filter(received_at__lt=cutoff, delivery__isnull=False).exclude(detail={})


def _deliveries_apply(*, policy, cutoff, dry_run: bool, batch_size: int) -> int:
    deliveries, reports = old_deliveries(cutoff), old_inbound_events(cutoff)
    if dry_run:
        return deliveries.count() + reports.count()
    trimmed = 0
    for queryset, changes in ((deliveries, _TRIMMED), (reports, {"detail": {}})):
        while not retention_time_up():
            with transaction.atomic():
                ids = list(queryset.order_by("pk").values_list("pk", flat=True)[:batch_size])
                if not ids:
                    break
                trimmed += queryset.model.objects.filter(pk__in=ids).update(**changes)
    if trimmed:
        audit_operation(model=EmailDelivery, action="Trimmed to their outcomes by data retention", count=trimmed)
    return trimmed


RETENTION = {RetentionKind.EMAIL_DELIVERIES: _deliveries_apply}
