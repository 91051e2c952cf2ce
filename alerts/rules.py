"""The alert rules: each measures one thing that needs a person, against a threshold an Admin may change.

A rule returns its findings (one per thing in trouble: an account, a capability, a kind of work); an
open alert with no finding any more resolves. Every figure is read fresh from the other apps' tables.
"""

from __future__ import annotations

import math
import shutil
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.core.cache import cache
from django.db.models import Count, Max, Min, Q
from django.utils import timezone
from django_q.brokers import get_broker
from django_q.conf import Conf
from django_q.models import OrmQ

from aicmo_site.stuck import stuck_work_everywhere
from alerts import conf
from analytics.reports.anomalies import HOUR, SERIES, anomalies_between, detector_settings, likely_causes
from analytics.services.zones import team_zone
from crm.choices import EventKind, RunStatus
from crm.models import EngagementEvent, EnrichmentRun
from gateways.capabilities import Capability
from gateways.models import BreakerState, OpenReason, ProviderAccount
from publishing.choices import JobStatus
from publishing.email.choices import DeliveryStatus
from publishing.email.models import EmailDelivery
from publishing.models import JobEvent


@dataclass
class Finding:
    subject: str
    value: float
    title: str
    advice: str


@dataclass
class Rule:
    key: str
    label: str
    unit: str
    default: float
    measure: Callable[[float], list[Finding]]


def _percent(part: int, whole: int) -> float:
    return round(100.0 * part / whole, 2) if whole else 0.0


def provider_down(threshold: float) -> list[Finding]:
    accounts = (ProviderAccount.objects.filter(enabled=True).select_related("health")
                .filter(Q(health__consecutive_failures__gte=threshold)
                        | Q(health__breaker_state=BreakerState.OPEN, health__open_reason=OpenReason.FAILURES)))
    return [Finding(subject=account.name, value=account.health.consecutive_failures,
                    title=f"Provider {account.name} is down ({account.health.consecutive_failures} failures in a row)",
                    advice=f"Last error: {account.health.last_error or 'none recorded'}. "
                           f"{account.health.last_advice or 'Check the account in Provider health and probe it.'}")
            for account in accounts if not account.is_fallback]


def failover_rate(threshold: float) -> list[Finding]:
    """How often a capability's first account fails, so calls move on to the next one."""
    findings = []
    accounts = ProviderAccount.objects.filter(enabled=True).select_related("health").order_by("capability", "priority")
    real: dict[str, list[ProviderAccount]] = {}
    for account in accounts:
        if not account.is_fallback:
            real.setdefault(account.capability, []).append(account)
    labels = dict(Capability.CHOICES)
    # With a single account there is nothing to fail over to: provider_down covers it.
    for capability, (account, *_others) in ((c, found) for c, found in real.items() if len(found) > 1):
        health = getattr(account, "health", None)
        if health is None or health.calls < conf.min_provider_calls() or health.success_rate is None:
            continue
        rate = round(100 * (1 - health.success_rate), 2)
        if rate > threshold:
            findings.append(Finding(
                subject=capability, value=rate,
                title=f"{labels.get(capability, capability)}: {rate:g}% of calls to {account.name} fail over",
                advice=f"{account.name} fails often ({health.last_error or 'see Provider health'}); fix or "
                       "replace it, or move a steadier account first."))
    return findings


def publishing_error_rate(threshold: float) -> list[Finding]:
    since = timezone.now() - timedelta(hours=1)
    ended = JobEvent.objects.filter(created_at__gte=since, to_status__in=(JobStatus.PUBLISHED, JobStatus.FAILED))
    counts = ended.aggregate(total=Count("pk"), failed=Count("pk", filter=Q(to_status=JobStatus.FAILED)))
    rate = _percent(counts["failed"], counts["total"])
    if counts["total"] < conf.min_sample() or rate <= threshold:
        return []
    return [Finding(subject="", value=rate,
                    title=f"{rate:g}% of publishing jobs failed in the last hour "
                          f"({counts['failed']} of {counts['total']})",
                    advice="Open Publishing → jobs filtered by Failed for the channels' reasons; check the channel "
                           "accounts in Provider health.")]


def enrichment_stalled(threshold: float) -> list[Finding]:
    quiet_since = timezone.now() - timedelta(minutes=threshold)
    runs = (EnrichmentRun.objects.filter(status=RunStatus.RUNNING, started_at__lt=quiet_since)
            .annotate(last_progress=Max("items__updated_at"))
            .filter(Q(last_progress__isnull=True) | Q(last_progress__lt=quiet_since)))
    return [Finding(subject=f"enrichment run {run.pk}", value=threshold,
                    title=f"Enrichment run {run.pk} has made no progress for {threshold:g} minutes",
                    advice="Check the enrichment provider in Provider health and that the worker is running; "
                           "cancel the run if it should stop.")
            for run in runs]


def _email_rate(kind: str, threshold: float, name: str, advice: str) -> list[Finding]:
    since = timezone.now() - timedelta(hours=24)
    sent = EmailDelivery.objects.filter(sent_at__gte=since, status=DeliveryStatus.SENT).count()
    events = EngagementEvent.objects.filter(kind=kind, occurred_at__gte=since).count()
    rate = _percent(events, sent)
    if sent < conf.min_sample() or rate <= threshold:
        return []
    return [Finding(subject="", value=rate, title=f"{name} rate {rate:g}% over 24 hours ({events} of {sent} emails)",
                    advice=advice)]


def bounce_rate(threshold: float) -> list[Finding]:
    return _email_rate(EventKind.BOUNCED, threshold, "Bounce",
                       "Pause sends to old or bought lists; verify addresses before sending (Contacts → enrichment).")


def complaint_rate(threshold: float) -> list[Finding]:
    return _email_rate(EventKind.COMPLAINED, threshold, "Complaint",
                       "Mailbox providers start refusing mail above 0.3%: pause the send, mail only people who "
                       "asked for it and make unsubscribing obvious.")


def queue_depth(threshold: float) -> list[Finding]:
    depth = get_broker().queue_size()
    if depth <= threshold:
        return []
    return [Finding(subject="", value=depth, title=f"{depth} background tasks are waiting",
                    advice="The worker cannot keep up or is not running: check `manage.py qinfo` and start more "
                           "workers (Q_WORKERS).")]


def oldest_task_age(threshold: float) -> list[Finding]:
    """Minutes the oldest waiting task has waited. With Redis the broker keeps no enqueue time, so this
    rule sees only the database broker's queue; queue depth covers both."""
    if Conf.ORM is None:
        return []
    now = timezone.now()
    oldest = OrmQ.objects.filter(key=Conf.CLUSTER_NAME, lock__lte=now).aggregate(oldest=Min("lock"))["oldest"]
    if oldest is None:
        return []
    minutes = round((now - oldest).total_seconds() / 60, 1)
    if minutes < threshold:
        return []
    return [Finding(subject="", value=minutes, title=f"The oldest background task has waited {minutes:g} minutes",
                    advice="No worker is taking tasks: start it (`manage.py qcluster`, or `make run`) and check its "
                           "log.")]


def stuck_work(threshold: float) -> list[Finding]:
    """The home page's stuck work (aicmo_site.stuck), counted by kind, so both say the same."""
    counts = Counter(item.kind for item in
                     stuck_work_everywhere(before=timezone.now() - timedelta(minutes=threshold)))
    return [Finding(subject=kind, value=count,
                    title=f"{count} × {kind.lower()} made no progress for {threshold:g} minutes",
                    advice="Open them from the home page; check the worker and the providers they use, then "
                           "resume or cancel them.")
            for kind, count in sorted(counts.items())]


def media_disk_space(threshold: float) -> list[Finding]:
    if settings.MEDIA_STORAGE_URL:  # media live in a bucket, which does not fill up; MEDIA_ROOT holds none
        return []
    folder = Path(settings.MEDIA_ROOT)
    while not folder.exists() and folder != folder.parent:  # not created until the first upload
        folder = folder.parent
    usage = shutil.disk_usage(folder)
    free = _percent(usage.free, usage.total)
    if free >= threshold:
        return []
    return [Finding(subject=str(settings.MEDIA_ROOT), value=free,
                    title=f"The media folder's disk has {free:g}% free ({usage.free // 2**30} GiB)",
                    advice="Delete unused assets and renditions, or give the media folder (MEDIA_ROOT) more space.")]


def metric_anomaly(threshold: float) -> list[Finding]:
    """Yesterday's daily figures (the last whole day in the team's time zone) against the same weekday of
    the weeks before (analytics.reports.anomalies); the alert resolves itself the day after."""
    yesterday = timezone.now().astimezone(team_zone()).date() - timedelta(days=1)
    config = replace(detector_settings(), threshold=threshold)
    return _anomaly_findings(anomalies_between(yesterday, yesterday, config=config), hourly=False)


def metric_anomaly_hourly(threshold: float) -> list[Finding]:
    """The last three whole hours against the same hour of the same weekday of the weeks before
    (analytics.reports.anomalies at HOUR), so an unusual hour stays announced for three hours. The scan
    reads nine weeks of the hourly roll-up: it is made once per hour and threshold, not on every check."""
    this_hour = timezone.now().astimezone(team_zone()).replace(minute=0, second=0, microsecond=0)
    config = replace(detector_settings(), threshold=threshold)
    found = cache.get_or_set(f"alerts:anomalies-hourly:{this_hour.isoformat()}:{threshold}",
                             lambda: anomalies_between(this_hour - timedelta(hours=3), this_hour,
                                                       config=config, period=HOUR), 3600)
    return _anomaly_findings(found, hourly=True)


def _anomaly_findings(found: list, *, hourly: bool) -> list[Finding]:
    causes = likely_causes({_day(a.day) for a in found})
    findings = []
    for anomaly in found:
        series = SERIES[anomaly.series]
        size = f"{anomaly.change:+.0%}" if math.isfinite(anomaly.change) else "from none"
        known = causes.get(_day(anomaly.day), [])
        when, usual = ((f"at {anomaly.day:%a %d %b %H:%M}", f"at that hour on a usual {anomaly.day:%A}") if hourly
                       else (f"on {anomaly.day:%a %d %b}", f"on a usual {anomaly.day:%A}"))
        findings.append(Finding(
            subject=f"{anomaly.series} {anomaly.day:%Y-%m-%dT%H:%M}" if hourly
            else f"{anomaly.series} {anomaly.day.isoformat()}", value=round(abs(anomaly.units), 1),
            title=f"{series.label}: a {anomaly.direction} {when} ({size} against {anomaly.expected:,.4g} {usual})",
            advice=("Likely cause: " + "; ".join(known) + ". " if known else "")
                   + ("See the unusual hours on the analytics overview" if hourly
                      else "See the trend on the analytics pages")
                   + "; check recent sends, lists and providers."))
    return findings


def _day(moment):
    return moment.date() if hasattr(moment, "hour") else moment


RULES = {rule.key: rule for rule in (
    Rule("provider_down", "Provider down", "failures in a row", 5, provider_down),
    Rule("failover_rate", "Failover rate per capability", "% of calls", 10, failover_rate),
    Rule("publishing_error_rate", "Publishing error rate (last hour)", "% of jobs", 5, publishing_error_rate),
    Rule("enrichment_stalled", "Enrichment stalled", "minutes without progress", 30, enrichment_stalled),
    Rule("bounce_rate", "Email bounce rate (24 h)", "% of emails sent", 2, bounce_rate),
    Rule("complaint_rate", "Email complaint rate (24 h)", "% of emails sent", 0.3, complaint_rate),
    Rule("queue_depth", "Worker queue depth", "tasks waiting", 1000, queue_depth),
    Rule("oldest_task_age", "Oldest waiting task", "minutes", 10, oldest_task_age),
    Rule("stuck_work", "Stuck work", "minutes without progress", 60, stuck_work),
    Rule("media_disk_space", "Media folder disk space", "% free (opens below)", 10, media_disk_space),
    Rule("metric_anomaly", "Unusual day in a daily figure", "robust units from the usual", 4, metric_anomaly),
    Rule("metric_anomaly_hourly", "Unusual hour in an hourly figure", "robust units from the usual", 4,
         metric_anomaly_hourly),
)}
