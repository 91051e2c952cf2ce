"""The runner loops' heartbeat: a `run_journeys --loop` says it is alive between its batches, and the
worker's runs of due steps stand aside while one is. Beside a loop those runs only fought it for the
same cores (at 300,000 due waits the queue took 170,000 of the 600,000 steps: bench notes, "Journeys");
a loop that dies falls silent, and the worker's next minute takes the due steps again."""

import os
import socket
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from automation.conf import runner_loop_alive_seconds
from automation.models import RunnerLoop


def runner_loop_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


@transaction.atomic
def runner_loop_seen(*, name: str, now=None) -> None:
    now = now or timezone.now()
    RunnerLoop.objects.update_or_create(name=name, defaults={"seen_at": now})
    # Loops killed without a word are taken for dead already; their rows would only pile up, one per process.
    RunnerLoop.objects.filter(seen_at__lt=now - timedelta(seconds=runner_loop_alive_seconds())).delete()


def runner_loop_stopped(*, name: str) -> None:
    """A loop stopping says so, and the worker's next run takes the due steps at once."""
    RunnerLoop.objects.filter(name=name).delete()
