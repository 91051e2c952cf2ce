"""What crm tells webhook subscribers: the payloads of its business events."""

from __future__ import annotations

from crm.models import Contact, ImportRun, Suppression
from webhooks.events import emit

CONTACT_FIELDS = ("email", "first_name", "last_name", "job_title", "city", "country", "lifecycle_status",
                  "email_status", "consent_status")


def contact_payload(contact: Contact) -> dict:
    return {"contact_id": contact.pk, **{name: getattr(contact, name) for name in CONTACT_FIELDS},
            "company_id": contact.company_id}


def contact_event_emit(event: str, contact: Contact, **extra) -> None:
    emit(event, {**contact_payload(contact), **extra})


def suppression_emit(suppression: Suppression) -> None:
    emit("contact.suppressed", {"value": suppression.value, "kind": suppression.kind,
                                "reason": suppression.reason, "source": suppression.source})


def import_finished_emit(run: ImportRun) -> None:
    emit("import.finished", {
        "import_id": run.pk, "file": run.original_name, "status": run.status, "error": run.error,
        "total_rows": run.total_rows, "created": run.created_count, "updated": run.updated_count,
        "skipped": run.skipped_count, "failed": run.failed_count,
        "finished_at": run.finished_at.isoformat() if run.finished_at else None,
    })
