"""django-q2 entry points: thin and idempotent (a fold or a scoring run twice changes nothing)."""

from aicmo_site.runs import run_work
from analytics.services import contacts_score, rollup_fold
from analytics.services.runs import rollup_rebuild_work, scores_recompute_work


def fold_rollups() -> dict:
    return rollup_fold()


def score_contacts() -> dict:
    return contacts_score()


def rollup_rebuild_run(run_id: int) -> dict:
    """A rebuild a person asked for; a finished run is left alone, so a repeated task does nothing."""
    run = run_work(run_id, rollup_rebuild_work)
    return {"run": run_id, "status": run.status if run else "missing"}


def scores_recompute_run(run_id: int) -> dict:
    """A recompute a person asked for; a finished run is left alone, so a repeated task does nothing."""
    run = run_work(run_id, scores_recompute_work)
    return {"run": run_id, "status": run.status if run else "missing"}
