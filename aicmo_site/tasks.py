"""Tasks of the site itself: a round trip that proves workers run (used by tests and self-checks)."""

import os
import socket

from django_q.tasks import async_task


def worker_echo(value: str) -> dict:
    return {"value": value, "host": socket.gethostname(), "pid": os.getpid()}


def worker_echo_enqueue(value: str) -> str:
    return async_task("aicmo_site.tasks.worker_echo", value, task_name=f"echo-{value}")
