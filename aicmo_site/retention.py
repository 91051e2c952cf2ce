"""Data retention: the policies an Admin sets per kind of data, and the run that applies them.

Each app applies the kinds of data it owns, in its `retention.py` (found through aicmo_site.registry, so
this base module imports no domain app): `RETENTION = {kind: apply}`, where
`apply(*, policy, cutoff, dry_run, batch_size) -> int` removes (or, in a dry run, only counts) what is
older than `cutoff` and returns how many rows it removed, trimmed, flagged or erased. The site applies the
audit log's own kind here. Every apply works in batches of `batch_size` rows, each in its own short
transaction, so that sending and tracking never wait behind a long lock.
"""

import calendar
import datetime as dt
import logging

from auditlog.models import LogEntry
from django.db import transaction
from django.utils import timezone

from aicmo_site.audit import audit_operation
from aicmo_site.errors import DomainError
from aicmo_site.models import InactiveContactAction, RetentionKind, RetentionPolicy
from aicmo_site.registry import app_modules

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


def _audit_entries_apply(*, policy, cutoff, dry_run: bool, batch_size: int) -> int:
    """The one deletion of audit entries the application makes: the Admin's retention period, by law or
    house rule, ends their keeping."""
    old = LogEntry.objects.filter(timestamp__lt=cutoff)
    if dry_run:
        return old.count()
    removed = 0
    while True:
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


def retention_apply(*, dry_run: bool = False, batch_size: int = BATCH_SIZE, now=None, progress=None) -> dict:
    """Applies every policy that is on; returns, per kind, what it removed (or would remove)."""
    now = now or timezone.now()
    appliers = retention_appliers()
    applied = {}
    policies = [p for p in retention_policies() if p.enabled]
    for done, policy in enumerate(policies, start=1):
        cutoff = policy_cutoff(policy, now)
        count = appliers[policy.kind](policy=policy, cutoff=cutoff, dry_run=dry_run, batch_size=batch_size)
        applied[policy.kind] = count
        logger.info("Retention %s (%s): %s older than %s", policy.kind, "dry run" if dry_run else "applied", count,
                    cutoff.isoformat())
        if progress:
            progress(done, len(policies))
    if not dry_run and any(applied.values()):
        # The log keeps one entry for the whole run, with the count of each kind.
        audit_operation(model=RetentionPolicy, action="Applied data retention", count=sum(applied.values()),
                        details={"removed": applied})
    return applied


def kind_label(kind: str) -> str:
    return RetentionKind(kind).label


def keep_for_label(policy: RetentionPolicy) -> str:
    unit, _ = RETENTION_UNITS[policy.kind]
    return f"{policy.keep_for} {unit[:-1] if policy.keep_for == 1 else unit}"


__all__ = ["BATCH_SIZE", "DESCRIPTIONS", "INACTIVE_TAG", "RETENTION_UNITS", "keep_for_label", "kind_label",
           "months_before", "policy_cutoff", "retention_apply", "retention_appliers", "retention_policies",
           "retention_policy_update"]
