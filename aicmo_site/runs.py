"""Background runs: start one (the task is enqueued only once the run is committed), move its status
through the one transition function, record progress, and work it from a task idempotently.

A task receives the run's id; `run_work` claims the run, calls the work, and ends the run with the
work's result or its error, so every kind of long work reports the same way on the same page.
"""

import logging
from collections.abc import Callable

from django.db import transaction
from django.utils import timezone
from django_q.tasks import async_task

from aicmo_site.audit import AuditSource, audit_source
from aicmo_site.errors import DomainError
from aicmo_site.models import RUN_TERMINAL, BackgroundRun, RunKind, RunStatus
from aicmo_site.transitions import Workflow

logger = logging.getLogger(__name__)

# The one table of run moves; RUN_TERMINAL states have none. A running run whose worker died stays
# running when the queue hands its task to another worker, which works it again (`_claim`).
RUN_TRANSITIONS = {
    RunStatus.QUEUED: {RunStatus.RUNNING, RunStatus.CANCELED, RunStatus.FAILED},
    RunStatus.RUNNING: {RunStatus.COMPLETED, RunStatus.FAILED, RunStatus.CANCELED},
    **{status: set() for status in RUN_TERMINAL},
}


class RunFailed(DomainError):
    """The work stopped on a failure it can name, with the counts of what it did before."""

    def __init__(self, message: str, *, result: dict | None = None):
        super().__init__(message, code="run_failed")
        self.result = result


UNEXPECTED_FAILURE = ("The run stopped on an unexpected error. Try again, and tell an administrator if it "
                      "happens again (the server log has the details).")


@transaction.atomic
def run_enqueue(*, kind: str, task: str, by=None, label: str = "", link: str = "", total: int = 0,
                task_kwargs: dict | None = None) -> BackgroundRun:
    """Records the run and hands `task(run_id, **task_kwargs)` to a worker once the run is committed:
    a worker never looks for a run that a rolled-back transaction took away."""
    if kind not in RunKind.values:
        raise DomainError(f"Unknown kind of run {kind!r}.", code="invalid_kind")
    run = run_record(kind=kind, by=by, label=label, link=link, total=total)
    kwargs = task_kwargs or {}
    transaction.on_commit(lambda: async_task(task, run.pk, task_name=f"run-{run.pk}", **kwargs))
    return run


def run_record(*, kind: str, by=None, label: str = "", link: str = "", total: int = 0) -> BackgroundRun:
    """The row of work that another app enqueues itself (an import, an enrichment run)."""
    run = BackgroundRun(kind=kind, label=label[:200], link=link, total=total,
                        requested_by=by if by is not None and by.is_authenticated else None)
    run.full_clean()
    run.save()
    return run


def run_follow(*, run_id: int, done: int, total: int, result: dict, progressed_at, **state) -> None:
    """For work whose own table keeps its workflow (imports, enrichment runs): the row follows that
    workflow's transition function, which has checked the move, rather than making its own. `state`
    (status, started_at, finished_at, error) is given by a move; figures alone by progress."""
    unknown = set(state) - {"status", "started_at", "finished_at", "error"}
    if unknown:
        raise TypeError(f"run_follow does not copy {', '.join(sorted(unknown))}")
    BackgroundRun.objects.filter(pk=run_id).update(done=done, total=total, result=result,
                                                   progressed_at=progressed_at, **state)


RUN_WORKFLOW = Workflow(model=BackgroundRun, transitions=RUN_TRANSITIONS, terminal=RUN_TERMINAL, noun="run",
                        clean_exclude=[])


@transaction.atomic
def run_transition(*, run_id: int, to: str, error: str = "", result: dict | None = None, by=None) -> BackgroundRun:
    run = BackgroundRun.objects.select_for_update().get(pk=run_id)
    now = timezone.now()
    fields = {"started_at": run.started_at or now} if to == RunStatus.RUNNING else {"finished_at": now, "error": error}
    if result is not None:
        fields["result"] = result
    if to == RunStatus.COMPLETED and run.total:
        fields["done"] = run.total
    fields["progressed_at"] = now
    return RUN_WORKFLOW.transition(run, to, by=by, note=error, locked=True, fields=fields)


def run_progress(*, run_id: int, done: int, total: int | None = None) -> None:
    """Records how far a running run got; a run already ended (canceled meanwhile) is left alone."""
    changes = {"done": done, "progressed_at": timezone.now()}
    if total is not None:
        changes["total"] = total
    BackgroundRun.objects.filter(pk=run_id, status=RunStatus.RUNNING).update(**changes)


def run_cancel(*, run: BackgroundRun, by=None) -> BackgroundRun:
    who = by.get_username() if by is not None else "the system"
    return run_transition(run_id=run.pk, to=RunStatus.CANCELED, error=f"Canceled by {who}.")


def _claim(run_id: int) -> BackgroundRun | None:
    with transaction.atomic():
        run = BackgroundRun.objects.select_for_update().filter(pk=run_id).first()
        if run is None or run.status in RUN_TERMINAL:
            return None
        if run.status == RunStatus.QUEUED:
            run = run_transition(run_id=run.pk, to=RunStatus.RUNNING)
        return run


def _finish(run_id: int, to: str, *, error: str = "", result: dict | None = None) -> None:
    """Ends a run unless something else ended it first (a cancel, a duplicate worker)."""
    with transaction.atomic():
        if BackgroundRun.objects.select_for_update().filter(pk=run_id, status__in=RUN_TERMINAL).exists():
            return
        run_transition(run_id=run_id, to=to, error=error, result=result)


def run_work(run_id: int, work: Callable[[BackgroundRun], dict]) -> BackgroundRun | None:
    """Works a run once: a finished run is left alone, so the queue repeating the task changes nothing.
    The work returns the run's result (counts); a `DomainError` fails the run with its message, any
    other error with a message that points to the log."""
    run = _claim(run_id)
    if run is not None:
        try:
            with audit_source(AuditSource.WORKER, f"{run.get_kind_display()} run {run.pk}", actor=run.requested_by):
                result = work(run)
        except DomainError as exc:
            _finish(run_id, RunStatus.FAILED, error=exc.message, result=getattr(exc, "result", None))
        except Exception:
            logger.exception("Background run %s failed", run_id)
            _finish(run_id, RunStatus.FAILED, error=UNEXPECTED_FAILURE)
        else:
            _finish(run_id, RunStatus.COMPLETED, result=result if isinstance(result, dict) else {})
    return BackgroundRun.objects.filter(pk=run_id).first()


__all__ = ["RUN_TRANSITIONS", "RunFailed", "run_cancel", "run_enqueue", "run_follow", "run_progress", "run_record",
           "run_transition", "run_work"]
