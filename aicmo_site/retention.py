"""Data retention: the policies an Admin sets per kind of data, and the run that applies them.

Each app applies the kinds of data it owns, in its `retention.py` (found through aicmo_site.registry, so
this base module imports no domain app): `RETENTION = {kind: apply}`, where
`apply(*, policy, cutoff, dry_run, batch_size) -> int` removes (or, in a dry run, only counts) what is
older than `cutoff` and returns how many rows it removed, trimmed, flagged or erased. The site applies the
audit log's own kind here. Every apply works in batches of `batch_size` rows, each in its own short
transaction, so that sending and tracking never wait behind a long lock, and stops after the batch in
which `retention_time_up()` turns true: a run given a time budget (the nightly task: the worker's timeout
less a margin) ends cleanly, says it continues next run, and the next run finds only what is left, rather
than being killed mid-batch by the queue.
"""

import calendar
import datetime as dt
import logging
import time
from contextvars import ContextVar

from auditlog.models import LogEntry
from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from aicmo_site.audit import audit_operation
from aicmo_site.errors import DomainError
from aicmo_site.models import (
    RUN_TERMINAL,
    BackgroundRun,
    InactiveContactAction,
    RetentionKind,
    RetentionPolicy,
    RunKind,
    RunStatus,
)
from aicmo_site.registry import app_modules
from aicmo_site.runs import run_progress, run_record, run_transition

logger = logging.getLogger(__name__)

DAYS, MONTHS, YEARS = "days", "months", "years"
# Each kind's unit and the keep_for a policy starts with when an Admin turns it on.
RETENTION_UNITS = {
    RetentionKind.ENGAGEMENT_EVENTS: (MONTHS, 24),
    RetentionKind.EMAIL_DELIVERIES: (MONTHS, 12),
    RetentionKind.UNCONFIRMED_CONTACTS: (DAYS, 30),
    RetentionKind.INACTIVE_CONTACTS: (YEARS, 3),
    RetentionKind.IMPORT_FILES: (DAYS, 30),
    RetentionKind.AUDIT_ENTRIES: (YEARS, 7),
}
DESCRIPTIONS = {
    RetentionKind.ENGAGEMENT_EVENTS: "Opens, clicks, page views and other raw events are folded into the daily "
                                     "roll-ups first, then deleted; conversions (payments) stay. Reports read the "
                                     "roll-ups, so their figures stay; what reads single events (attribution's "
                                     "touches, cohorts, reach, engagement scores) loses them.",
    RetentionKind.EMAIL_DELIVERIES: "Sends finished that long ago keep their outcome (sent, failed, opened, clicked) "
                                    "but lose the provider's answers and the content of replies and reports.",
    RetentionKind.UNCONFIRMED_CONTACTS: "People who signed up through a double opt-in form and never confirmed are "
                                        "removed, with what they sent.",
    RetentionKind.INACTIVE_CONTACTS: "Contacts with no activity at all for that long are tagged for review, or "
                                     "erased as on a person's request.",
    RetentionKind.IMPORT_FILES: "Uploaded files and error reports of finished imports are deleted; the import's "
                                "figures stay.",
    RetentionKind.AUDIT_ENTRIES: "Entries of the audit log older than that are deleted.",
}
BATCH_SIZE = 5000
# What the nightly run leaves of the worker's timeout (Q_TIMEOUT) for its last batch and its bookkeeping.
TIME_MARGIN_SECONDS = 60
CONTINUES = "continues_next_run"
_deadline: ContextVar[float | None] = ContextVar("aicmo_retention_deadline", default=None)
# Contacts flagged by the inactive-contacts policy carry this tag (a filter of the contacts list).
INACTIVE_TAG = "Inactive: review"


def months_before(day: dt.date, months: int) -> dt.date:
    """The same day `months` months earlier, or the month's last day when it has fewer days."""
    index = day.year * 12 + day.month - 1 - months
    year, month = divmod(index, 12)
    month += 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def policy_cutoff(policy: RetentionPolicy, now: dt.datetime | None = None) -> dt.datetime:
    """What is older than this instant goes. Months and years count in the calendar of the team's zone, from
    midnight, so that a whole day of events goes at once."""
    now = now or timezone.now()
    unit, _ = RETENTION_UNITS[policy.kind]
    if unit == DAYS:
        return now - dt.timedelta(days=policy.keep_for)
    zone = timezone.get_default_timezone()
    today = timezone.localtime(now, zone).date()
    months = policy.keep_for * (12 if unit == YEARS else 1)
    return dt.datetime.combine(months_before(today, months), dt.time.min, tzinfo=zone)


def retention_policies() -> list[RetentionPolicy]:
    """One policy per kind, in the order of the kinds; a kind never set yet is off (kept for ever)."""
    found = {p.kind: p for p in RetentionPolicy.objects.all()}
    return [found.get(kind) or RetentionPolicy(kind=kind, enabled=False, keep_for=RETENTION_UNITS[kind][1])
            for kind in RetentionKind.values]


@transaction.atomic
def retention_policy_update(*, kind: str, enabled: bool | None = None, keep_for: int | None = None,
                            action: str | None = None) -> RetentionPolicy:
    if kind not in RetentionKind.values:
        raise DomainError(f"Unknown kind of data {kind!r}.", code="invalid_kind")
    policy = RetentionPolicy.objects.select_for_update().filter(kind=kind).first() or RetentionPolicy(
        kind=kind, keep_for=RETENTION_UNITS[kind][1])
    if enabled is not None:
        policy.enabled = enabled
    if keep_for is not None:
        policy.keep_for = keep_for
    if action is not None:
        if action not in InactiveContactAction.values:
            raise DomainError(f"Unknown action {action!r}.", code="invalid_action")
        policy.action = action
    policy.full_clean()
    policy.save()
    return policy


def retention_time_up() -> bool:
    """True once the run's time budget is spent; every apply checks it between batches."""
    deadline = _deadline.get()
    return deadline is not None and time.monotonic() >= deadline


def nightly_time_budget() -> float:
    return max(settings.Q_CLUSTER.get("timeout", 600) - TIME_MARGIN_SECONDS, 10)


def _audit_entries_apply(*, policy, cutoff, dry_run: bool, batch_size: int) -> int:
    """The one deletion of audit entries the application makes: the Admin's retention period, by law or
    house rule, ends their keeping."""
    old = LogEntry.objects.filter(timestamp__lt=cutoff)
    if dry_run:
        return old.count()
    removed = 0
    while not retention_time_up():
        with transaction.atomic():
            ids = list(old.order_by("pk").values_list("pk", flat=True)[:batch_size])
            if not ids:
                break
            removed += LogEntry.objects.filter(pk__in=ids).delete()[0]
    return removed


SITE_RETENTION = {RetentionKind.AUDIT_ENTRIES: _audit_entries_apply}


def retention_appliers() -> dict:
    appliers = dict(SITE_RETENTION)
    for _, module in app_modules("retention"):
        appliers.update(module.RETENTION)
    return appliers


def retention_apply(*, dry_run: bool = False, batch_size: int = BATCH_SIZE, now=None, progress=None,
                    time_budget: float | None = None) -> dict:
    """Applies every policy that is on; returns, per kind, what it removed (or would remove). Past
    `time_budget` seconds it stops after the batch under way, and the result says it continues next run
    (`continues_next_run`); the kinds not reached are not in it."""
    now = now or timezone.now()
    appliers = retention_appliers()
    applied = {}
    policies = [p for p in retention_policies() if p.enabled]
    token = _deadline.set(None if time_budget is None else time.monotonic() + time_budget)
    try:
        for done, policy in enumerate(policies, start=1):
            if retention_time_up():
                break
            cutoff = policy_cutoff(policy, now)
            count = appliers[policy.kind](policy=policy, cutoff=cutoff, dry_run=dry_run, batch_size=batch_size)
            applied[policy.kind] = count
            logger.info("Retention %s (%s): %s older than %s", policy.kind, "dry run" if dry_run else "applied",
                        count, cutoff.isoformat())
            if progress:
                progress(done, len(policies))
        stopped = retention_time_up()
    finally:
        _deadline.reset(token)
    if stopped:
        logger.info("Retention stopped at its time budget of %s s: it continues next run", time_budget)
    if not dry_run and any(applied.values()):
        # The log keeps one entry for the whole run, with the count of each kind.
        audit_operation(model=RetentionPolicy, action="Applied data retention", count=sum(applied.values()),
                        details={"removed": applied})
    return {**applied, CONTINUES: True} if stopped else applied


def retention_run_open() -> BackgroundRun | None:
    return BackgroundRun.objects.filter(kind=RunKind.RETENTION).exclude(status__in=RUN_TERMINAL).first()


def retention_run_now(*, by=None, label: str, batch_size: int = BATCH_SIZE,
                      time_budget: float | None = None) -> BackgroundRun:
    """Applies the policies here and now (the command), recorded as a run like the nightly task's, so the
    retention page lists it. Refused while another retention run is open: one at a time."""
    try:
        with transaction.atomic():
            if retention_run_open() is not None:
                raise IntegrityError
            run = run_record(kind=RunKind.RETENTION, by=by, label=label, link=reverse("retention"))
    except IntegrityError:
        open_run = retention_run_open()
        raise DomainError(f"A data-retention run is under way (run {open_run.pk if open_run else '?'}); "
                          "wait for it to end.", code="run_open") from None
    run_transition(run_id=run.pk, to=RunStatus.RUNNING)
    try:
        result = retention_apply(batch_size=batch_size, time_budget=time_budget,
                                 progress=lambda done, total: run_progress(run_id=run.pk, done=done, total=total))
    except Exception as exc:
        run_transition(run_id=run.pk, to=RunStatus.FAILED, error=f"{exc}"[:2000] or exc.__class__.__name__)
        raise
    return run_transition(run_id=run.pk, to=RunStatus.COMPLETED, result=result)


def kind_label(kind: str) -> str:
    return RetentionKind(kind).label


def keep_for_label(policy: RetentionPolicy) -> str:
    unit, _ = RETENTION_UNITS[policy.kind]
    return f"{policy.keep_for} {unit[:-1] if policy.keep_for == 1 else unit}"


__all__ = ["BATCH_SIZE", "CONTINUES", "DESCRIPTIONS", "INACTIVE_TAG", "RETENTION_UNITS", "keep_for_label",
           "kind_label", "months_before", "nightly_time_budget", "policy_cutoff", "retention_apply",
           "retention_appliers", "retention_policies", "retention_policy_update", "retention_run_now",
           "retention_run_open", "retention_time_up"]
