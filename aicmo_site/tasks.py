"""Tasks of the site itself: a round trip that proves workers run (used by tests and self-checks), and the
nightly data retention."""

import os
import socket

from django.db import IntegrityError, transaction
from django.urls import reverse
from django_q.tasks import async_task

from aicmo_site.models import RetentionPolicy, RunKind
from aicmo_site.retention import nightly_time_budget, retention_apply, retention_run_open
from aicmo_site.runs import run_progress, run_record, run_work


def worker_echo(value: str) -> dict:
    return {"value": value, "host": socket.gethostname(), "pid": os.getpid()}


def worker_echo_enqueue(value: str) -> str:
    return async_task("aicmo_site.tasks.worker_echo", value, task_name=f"echo-{value}")


def retention_nightly() -> int | None:
    """The nightly schedule: applies the data-retention policies that are on, in a run of their own (whose
    result says what went, per kind). Nothing is recorded on a night with every policy off.

    A run still open is worked again rather than left stuck: the queue only hands the task out again once
    its worker is gone (timed out or killed), every batch the run committed stays done, and applying the
    policies again finds only what is left. A run stops by itself before the worker's timeout (its result
    then says it continues next run), so it is not killed on a night with more to remove than usual."""
    if not RetentionPolicy.objects.filter(enabled=True).exists():
        return None
    run = retention_run_open()
    if run is None:
        try:
            with transaction.atomic():
                run = run_record(kind=RunKind.RETENTION, label="Nightly data retention", link=reverse("retention"))
        except IntegrityError:  # another worker recorded it meanwhile, and works it
            return None
    run_work(run.pk, retention_work)
    return run.pk


def retention_work(run) -> dict:
    return retention_apply(progress=lambda done, total: run_progress(run_id=run.pk, done=done, total=total),
                           time_budget=nightly_time_budget())
