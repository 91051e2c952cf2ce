from datetime import timedelta

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from alerts.models import Alert, AlertChannel, AlertStatus
from alerts.rules import RULES
from alerts.services import rule_settings

RECENT = timedelta(days=7)


def alert_list(*, status: str = "") -> QuerySet[Alert]:
    """Open alerts first, then those resolved in the last week, with how many notices went out."""
    alerts = Alert.objects.filter(Q(status=AlertStatus.OPEN) | Q(resolved_at__gte=timezone.now() - RECENT))
    if status:
        alerts = alerts.filter(status=status)
    return alerts.annotate(notices_sent=Count("notices", filter=Q(notices__ok=True))).order_by("status", "-opened_at")


def channel_list() -> QuerySet[AlertChannel]:
    return AlertChannel.objects.order_by("name", "pk")


def rule_rows() -> list[dict]:
    settings = rule_settings()
    return [{"key": key, "label": rule.label, "unit": rule.unit, "default": rule.default,
             "enabled": settings[key][0], "threshold": settings[key][1]} for key, rule in RULES.items()]
