"""django-q2 entry points for getting CRM data in and out: they take IDs and call services."""

from crm.imports import import_run_execute as _import_run_execute


def import_run_execute(run_id: int) -> dict:
    """Runs (or resumes) an import; a finished run is left alone, so a repeated task does nothing."""
    run = _import_run_execute(run_id)
    return {"run": run.pk, "status": run.status, "processed": run.processed_rows}
