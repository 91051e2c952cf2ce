"""Analytics rebuilds a person asks for, as background runs: the roll-ups recomputed from every event,
and every contact's score recomputed. One of each kind at a time: a second would redo the same work."""

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse

from aicmo_site.errors import ConflictError
from aicmo_site.models import RUN_TERMINAL, BackgroundRun, RunKind
from aicmo_site.runs import run_enqueue, run_progress
from analytics.services.rollups import rollup_rebuild
from analytics.services.scoring import contacts_score


def _start_unless_open(*, kind: str, task: str, by, label: str) -> BackgroundRun:
    """The partial unique constraint on open runs of these kinds refuses the second, even two at once."""
    try:
        with transaction.atomic():
            return run_enqueue(kind=kind, task=task, by=by, label=label, link=reverse("analytics:overview"))
    except (IntegrityError, ValidationError):
        open_run = BackgroundRun.objects.filter(kind=kind).exclude(status__in=RUN_TERMINAL).order_by("pk").first()
        raise ConflictError(f"A {RunKind(kind).label.lower()} is already under way; follow it instead.",
                            code="already_running", extra={"run": open_run.pk if open_run else None}) from None


def rollup_rebuild_start(*, by=None) -> BackgroundRun:
    return _start_unless_open(kind=RunKind.ROLLUP_REBUILD, task="analytics.tasks.rollup_rebuild_run", by=by,
                              label="Rebuild the analytics roll-ups from every event")


def scores_recompute_start(*, by=None) -> BackgroundRun:
    return _start_unless_open(kind=RunKind.SCORE_RECOMPUTE, task="analytics.tasks.scores_recompute_run", by=by,
                              label="Recompute every contact's score")


def rollup_rebuild_work(run: BackgroundRun) -> dict:
    """The rebuild reports events read of all events after each chunk."""
    return rollup_rebuild(progress=lambda done, total: run_progress(run_id=run.pk, done=done, total=total))


def scores_recompute_work(run: BackgroundRun) -> dict:
    return contacts_score()
