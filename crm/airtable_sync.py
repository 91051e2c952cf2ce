"""Pushing contacts and their status to Airtable through the gateways' CRM-sync capability.

Records are merged on the email (the adapter's merge field), so pushing a contact twice updates
the same Airtable row: a sync can repeat or overlap the previous one without harm. The schedule
pushes what changed in a recent window (CRM_AIRTABLE_SYNC_LOOKBACK_MINUTES, longer than the
schedule's interval) and a daily full push catches changes that do not touch `updated_at`
(scores written in bulk by analytics) or a window missed while Airtable was down.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import QuerySet
from django.utils import timezone

from aicmo_site.audit import audit_operation
from aicmo_site.errors import DomainError
from aicmo_site.models import BackgroundRun, RunKind
from aicmo_site.runs import RunFailed, run_enqueue, run_progress
from crm.imports import conf
from crm.models import Contact
from crm.selectors import contacts_visible
from gateways import services as gateways
from gateways.capabilities import Capability, SyncRecord
from gateways.errors import GatewayError
from gateways.readiness import Readiness, capability_readiness

BATCH_CONTACTS = 500


@dataclass
class SyncOutcome:
    contacts: int = 0
    written: int = 0  # what Airtable answered it holds; created + updated when it says which
    created: int = 0
    updated: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)
    skipped: bool = False
    error: str = ""

    def as_dict(self) -> dict:
        return {"contacts": self.contacts, "written": self.written, "created": self.created, "updated": self.updated,
                "failed": [{"email": key, "reason": reason} for key, reason in self.failed],
                "skipped": self.skipped, "error": self.error}


def contact_sync_record(contact: Contact) -> SyncRecord:
    return SyncRecord(key=contact.email, fields={
        "First Name": contact.first_name,
        "Last Name": contact.last_name,
        "Company": contact.company.name if contact.company_id else "",
        "Job Title": contact.job_title,
        "Lifecycle": contact.get_lifecycle_status_display(),
        "Email Status": contact.get_email_status_display(),
        "Consent": contact.get_consent_status_display(),
        "Engagement Score": contact.engagement_score,
        "Engagement Tier": contact.get_engagement_tier_display(),
        "Tags": ", ".join(sorted(tag.name for tag in contact.tags.all())),
        "Updated": contact.updated_at.isoformat(),
    })


def contacts_to_sync(*, changed_since: datetime | None = None) -> QuerySet[Contact]:
    contacts = contacts_visible().order_by("pk")
    return contacts.filter(updated_at__gte=changed_since) if changed_since else contacts


def airtable_sync_readiness() -> Readiness:
    return capability_readiness(Capability.CRM_SYNC)


def airtable_sync_refuse_unless_ready() -> None:
    """For whoever asks for a sync (a person, the API, the command): refused with the reason and the link."""
    readiness = airtable_sync_readiness()
    if not readiness.ready:
        raise DomainError(f"Nothing can be pushed to Airtable: {readiness.reason}", code="no_provider",
                          extra={"fix_url": readiness.fix_url})


def airtable_sync_start(*, by=None, full: bool = False) -> BackgroundRun:
    """A person's push, on a worker: refused now when no provider could take it, else a run to follow."""
    airtable_sync_refuse_unless_ready()
    label = "Push every contact to Airtable" if full else "Push recently changed contacts to Airtable"
    return run_enqueue(kind=RunKind.AIRTABLE_SYNC, task="crm.data_tasks.airtable_sync_run", by=by, label=label,
                       total=contacts_to_sync(changed_since=None if full else recent_changes_since()).count(),
                       task_kwargs={"full": full})


def airtable_sync_work(run: BackgroundRun, *, full: bool) -> dict:
    """The work of a push run: its counts are the result, and a push that stopped is a failed run."""
    outcome = contacts_sync_airtable(changed_since=None if full else recent_changes_since(),
                                     progress=lambda done: run_progress(run_id=run.pk, done=done), run=run)
    if outcome.error:
        raise RunFailed(f"The push to Airtable stopped: {outcome.error}", result=outcome.as_dict())
    return outcome.as_dict()


def contacts_sync_airtable(*, contacts: QuerySet[Contact] | None = None, changed_since: datetime | None = None,
                           progress: Callable[[int], None] | None = None,
                           run: BackgroundRun | None = None) -> SyncOutcome:
    """Pushes contacts in batches; stops at the first batch no provider could take (the next run
    pushes them again), reports per-contact refusals and goes on. Without a real CRM sync provider it
    reads no contact and reports why (skipped). A push that wrote anything is one audit entry, with
    its counts and its `run` when a person asked for it."""
    outcome = _sync(contacts=contacts, changed_since=changed_since, progress=progress)
    if outcome.contacts:
        audit_operation(model=Contact, action="Pushed to Airtable", count=outcome.contacts,
                        by=run.requested_by if run is not None else None, run=run,
                        details={"created": outcome.created, "updated": outcome.updated,
                                 "refused": len(outcome.failed), "stopped": outcome.error or ""})
    return outcome


def _sync(*, contacts, changed_since, progress) -> SyncOutcome:
    outcome = SyncOutcome()
    readiness = airtable_sync_readiness()
    if not readiness.ready:
        outcome.skipped, outcome.error = True, readiness.reason
        return outcome
    contacts = contacts if contacts is not None else contacts_to_sync(changed_since=changed_since)
    batch: list[SyncRecord] = []
    for contact in contacts.select_related("company").prefetch_related("tags").iterator(chunk_size=BATCH_CONTACTS):
        batch.append(contact_sync_record(contact))
        if len(batch) >= BATCH_CONTACTS:
            if not _push(batch, outcome):
                return outcome
            if progress:
                progress(outcome.contacts)
            batch = []
    if batch:
        _push(batch, outcome)
    return outcome


def _push(batch: list[SyncRecord], outcome: SyncOutcome) -> bool:
    try:
        result = gateways.sync_records(batch)
    except GatewayError as exc:
        outcome.error = str(exc)
        return False
    if result.skipped:
        outcome.skipped, outcome.error = True, result.reason
        return False
    outcome.contacts += len(batch)
    outcome.written += result.value.written
    outcome.created += result.value.created
    outcome.updated += result.value.updated
    outcome.failed.extend(result.value.failed)
    return True


def recent_changes_since() -> datetime:
    return timezone.now() - timedelta(minutes=conf.airtable_lookback_minutes())
