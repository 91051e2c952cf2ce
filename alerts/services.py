"""Evaluating the rules into alerts that open once and resolve by themselves, and sending their notices."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from aicmo_site.errors import DomainError
from aicmo_site.transitions import Via, Workflow
from alerts.models import (
    ALERT_TERMINAL,
    ALERT_TRANSITIONS,
    Alert,
    AlertChannel,
    AlertNotice,
    AlertRule,
    AlertStatus,
    NoticeKind,
)
from alerts.notify import NoticeFailed, notice_send
from alerts.rules import RULES, Finding
from webhooks.events import emit

logger = logging.getLogger(__name__)
# Resolved notices are still owed for alerts resolved this recently (a channel down at the time).
RESOLVED_NOTICE_WINDOW = timedelta(days=1)
ALERT_WORKFLOW = Workflow(model=Alert, transitions=ALERT_TRANSITIONS, terminal=ALERT_TERMINAL, noun="alert")


@dataclass
class CheckReport:
    opened: list[str] = field(default_factory=list)
    resolved: list[str] = field(default_factory=list)
    still_open: int = 0
    notices_sent: int = 0
    notices_failed: int = 0
    rule_errors: dict[str, str] = field(default_factory=dict)


def rule_settings() -> dict[str, tuple[bool, float]]:
    """(enabled, threshold) per rule: an Admin's row, or the rule's default."""
    saved = {row.key: (row.enabled, row.threshold) for row in AlertRule.objects.all()}
    return {key: saved.get(key, (True, rule.default)) for key, rule in RULES.items()}


@transaction.atomic
def alert_rule_update(*, key: str, enabled: bool, threshold: float) -> AlertRule:
    if key not in RULES:
        raise DomainError(f"There is no alert rule {key!r}.", code="unknown_rule")
    if threshold < 0:
        raise DomainError("A threshold cannot be negative.", code="invalid_threshold")
    rule, _ = AlertRule.objects.update_or_create(key=key, defaults={"enabled": enabled, "threshold": threshold})
    return rule


@transaction.atomic
def alert_channel_create(*, name: str, kind: str, target: str, repeat_minutes: int = 240,
                         active: bool = True) -> AlertChannel:
    channel = AlertChannel(name=name, kind=kind, target=target.strip(), repeat_minutes=repeat_minutes, active=active)
    channel.full_clean()
    channel.save()
    return channel


@transaction.atomic
def alert_channel_update(*, channel: AlertChannel, **fields) -> AlertChannel:
    for name, value in fields.items():
        if name not in {"name", "kind", "target", "repeat_minutes", "active"}:
            raise DomainError(f"{name} cannot be changed.", code="read_only")
        setattr(channel, name, value)
    channel.full_clean()
    channel.save()
    return channel


@transaction.atomic
def alert_channel_delete(*, channel: AlertChannel) -> None:
    channel.delete()


def _event_payload(alert: Alert) -> dict:
    return {"alert_id": alert.pk, "rule": alert.rule, "subject": alert.subject, "title": alert.title,
            "advice": alert.advice, "value": alert.value, "threshold": alert.threshold,
            "opened_at": alert.opened_at.isoformat(),
            "resolved_at": alert.resolved_at.isoformat() if alert.resolved_at else None}


def _apply(key: str, threshold: float, findings: list[Finding], report: CheckReport) -> None:
    now = timezone.now()
    with transaction.atomic():
        current = {alert.subject: alert for alert in
                   Alert.objects.select_for_update().filter(rule=key, status=AlertStatus.OPEN)}
        for finding in findings:
            alert = current.pop(finding.subject, None)
            if alert is not None:
                Alert.objects.filter(pk=alert.pk).update(last_seen_at=now, value=finding.value, title=finding.title,
                                                         advice=finding.advice)
                report.still_open += 1
                continue
            alert = Alert.objects.create(rule=key, subject=finding.subject, title=finding.title,
                                         advice=finding.advice, value=finding.value, threshold=threshold,
                                         last_seen_at=now)
            emit("alert.opened", _event_payload(alert))
            report.opened.append(alert.title)
        for alert in current.values():
            ALERT_WORKFLOW.transition(alert, AlertStatus.RESOLVED, locked=True, fields={"resolved_at": now},
                                      note="No longer found by its rule", via=Via.WORKER)
            emit("alert.resolved", _event_payload(alert))
            report.resolved.append(alert.title)


def alerts_check() -> CheckReport:
    """Evaluates every rule once, opens and resolves alerts, then sends the notices owed."""
    report = CheckReport()
    for key, (enabled, threshold) in rule_settings().items():
        try:
            findings = RULES[key].measure(threshold) if enabled else []
        except Exception as exc:  # one broken measure must not silence the others
            logger.exception("Alert rule %s failed", key)
            report.rule_errors[key] = str(exc)
            continue
        try:
            _apply(key, threshold, findings, report)
        except IntegrityError:
            logger.info("Alert rule %s was applied by a concurrent check", key)
    notices_send(report)
    return report


def _claim(alert: Alert, channel: AlertChannel, kind: str) -> AlertNotice | None:
    """The notice row, written before sending so a concurrent check does not send it too; a notice that
    failed earlier is claimed again."""
    try:
        with transaction.atomic():
            return AlertNotice.objects.create(alert=alert, channel=channel, kind=kind)
    except IntegrityError:
        failed = AlertNotice.objects.filter(alert=alert, channel=channel, kind=kind, ok=False).exclude(error="")
        notice = failed.first()
        if notice is None or not failed.filter(pk=notice.pk).update(error=""):
            return None
        return notice


def _send(notice: AlertNotice, report: CheckReport) -> None:
    try:
        notice_send(notice.channel, notice.alert, notice.kind)
    except NoticeFailed as exc:
        AlertNotice.objects.filter(pk=notice.pk).update(error=str(exc)[:2000] or "failed", sent_at=timezone.now())
        report.notices_failed += 1
        return
    AlertNotice.objects.filter(pk=notice.pk).update(ok=True, sent_at=timezone.now())
    report.notices_sent += 1


def notices_send(report: CheckReport) -> None:
    """Opened once per channel, a reminder at most every channel's repeat interval, resolved once (to the
    channels that heard of the opening). No transaction is held across a send."""
    now = timezone.now()
    channels = list(AlertChannel.objects.filter(active=True))
    if not channels:
        return
    alerts = list(Alert.objects.filter(status=AlertStatus.OPEN)
                  | Alert.objects.filter(status=AlertStatus.RESOLVED, resolved_at__gte=now - RESOLVED_NOTICE_WINDOW))
    notices = list(AlertNotice.objects.filter(alert__in=alerts))
    for alert in alerts:
        for channel in channels:
            mine = [n for n in notices if n.alert_id == alert.pk and n.channel_id == channel.pk]
            told = {n.kind for n in mine}
            if alert.status == AlertStatus.OPEN:
                if NoticeKind.OPENED not in told or any(n.kind == NoticeKind.OPENED and n.error for n in mine):
                    kind = NoticeKind.OPENED
                elif channel.repeat_minutes and max(n.sent_at for n in mine) <= now - timedelta(
                        minutes=channel.repeat_minutes):
                    kind = NoticeKind.REMINDER
                else:
                    continue
            elif any(n.kind == NoticeKind.OPENED and n.ok for n in mine) and (
                    NoticeKind.RESOLVED not in told or any(n.kind == NoticeKind.RESOLVED and n.error for n in mine)):
                kind = NoticeKind.RESOLVED
            else:
                continue
            notice = AlertNotice.objects.create(alert=alert, channel=channel, kind=kind) \
                if kind == NoticeKind.REMINDER else _claim(alert, channel, kind)
            if notice is not None:
                notice.alert, notice.channel = alert, channel
                _send(notice, report)
