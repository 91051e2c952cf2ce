"""The shared row (aicmo_site.BackgroundRun) of an import or an enrichment run.

Imports and enrichment runs keep their workflow and figures in their own tables (resumable chunks,
claimed items); their shared row is what the "Background work" page, /api/runs/ and stuck work read.
The services that move a crm run call `shared_run_follow` in the same transaction, so the row never
says more than the crm run does.
"""

from django.urls import reverse

from aicmo_site.models import RunKind
from aicmo_site.runs import run_follow, run_record
from crm.models import EnrichmentRun, ImportRun, RunRecord


def _describe(record: RunRecord) -> dict:
    if isinstance(record, ImportRun):
        return {"kind": RunKind.IMPORT, "label": f"Import of {record.original_name or record.pk}",
                "link": reverse("crm:import-detail", args=[record.pk])}
    if isinstance(record, EnrichmentRun):
        scope = record.scope or {}
        what = (f"segment {scope['segment']}" if scope.get("segment") else
                "all new contacts" if scope.get("all_new") else f"{len(scope.get('contact_ids', []))} contacts")
        verb = "Verification" if scope.get("verify_only") else "Enrichment"
        return {"kind": RunKind.ENRICHMENT, "label": f"{verb} of {what}",
                "link": reverse("crm:enrichment-run", args=[record.pk])}
    raise TypeError(f"{type(record).__name__} has no shared run row")


def shared_run_create(record: RunRecord) -> None:
    """Gives a newly saved crm run its shared row."""
    run = run_record(by=record.requested_by, **_describe(record))
    type(record).objects.filter(pk=record.pk).update(run=run)
    record.run = run
    shared_run_follow(record)


def shared_run_follow(record: RunRecord, *, figures_only: bool = False) -> None:
    """Copies the crm run's status, times, error and figures onto its shared row; `figures_only` for
    progress written without the run's lock, where the status in hand may be stale."""
    if record.run_id is None:
        return
    state = {} if figures_only else {"status": record.status, "started_at": record.started_at,
                                     "finished_at": record.finished_at, "error": record.error}
    run_follow(run_id=record.run_id, progressed_at=record.progressed_at, **record.shared_figures(), **state)
