"""django-q2 entry points for getting CRM data in and out: they take IDs and call services."""

from aicmo_site.runs import run_work
from crm.imports import import_run_execute as _import_run_execute


def import_run_execute(run_id: int) -> dict:
    """Runs (or resumes) an import; a finished run is left alone, so a repeated task does nothing."""
    run = _import_run_execute(run_id)
    return {"run": run.pk, "status": run.status, "processed": run.processed_rows}


def imports_resume() -> list[int]:
    """Scheduled: imports whose worker died, taken up again from their last committed chunk."""
    from crm.imports import import_runs_resume

    return import_runs_resume()


def airtable_sync(full: bool = False) -> dict:
    """The scheduled push: contacts changed in the recent window, or everyone when `full`."""
    from crm.airtable_sync import contacts_sync_airtable, recent_changes_since

    return contacts_sync_airtable(changed_since=None if full else recent_changes_since()).as_dict()


def airtable_sync_run(run_id: int, full: bool = False) -> dict:
    """A push a person asked for; a finished run is left alone, so a repeated task does nothing."""
    from crm.airtable_sync import airtable_sync_work

    run = run_work(run_id, lambda run: airtable_sync_work(run, full=full))
    return {"run": run_id, "status": run.status if run else "missing"}
