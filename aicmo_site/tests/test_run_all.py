"""`manage.py run_all` (what `make run` starts) end to end: the web server, a worker and the journeys'
runner come up together, and one Ctrl-C stops them all, leaving nothing running."""

import contextlib
import os
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings

from aicmo_site.tasks import worker_echo_enqueue
from aicmo_site.testing.worker import ROOT, child_process_env, process_tree, wait_for
from automation.models import RunnerLoop
from gateways.testing.ports import free_port

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=5) as answer:  # noqa: S310 - our own http URL
            return answer.status == 200
    except OSError:
        return False


def echoed(task_id: str) -> bool:
    from django_q.models import Task

    return Task.objects.filter(id=task_id, success=True).exists()


def test_run_all_starts_web_worker_and_runner_and_one_ctrl_c_stops_them_all():
    port = free_port()
    log = Path(settings.MEDIA_ROOT).parent / f"run-all-{os.getpid()}-{port}.log"
    with open(log, "wb") as output:
        process = subprocess.Popen([sys.executable, "manage.py", "run_all", "--addr", f"127.0.0.1:{port}"], cwd=ROOT,
                                   env=child_process_env({}), stdout=output, stderr=subprocess.STDOUT,
                                   start_new_session=True)
        started: set[int] = set()
        try:
            wait_for(lambda: answers(f"http://127.0.0.1:{port}/healthz"), timeout=90, interval=0.5,
                     message="the web server")
            wait_for(RunnerLoop.objects.exists, timeout=60, message="the journeys' runner saying it is alive")
            echo = worker_echo_enqueue("run-all")
            wait_for(lambda: echoed(echo), timeout=60, interval=0.5, message="the worker running a task")
            started = set(process_tree(process.pid)) - {process.pid}
            assert len(started) >= 3, started

            process.send_signal(signal.SIGINT)  # Ctrl-C
            assert process.wait(timeout=60) == 0
            wait_for(lambda: not any(alive(pid) for pid in started), timeout=30,
                     message=f"every process ended: {sorted(pid for pid in started if alive(pid))}")
        finally:
            # Whatever it left, even once it has ended itself: its own process group and its processes' (it
            # starts each in a group of its own). A worker left running would take other tests' tasks.
            for pid in {process.pid, *started, *process_tree(process.pid)}:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(pid, signal.SIGKILL)
            process.wait(timeout=10)
    assert not RunnerLoop.objects.exists()  # the runner said it stopped, so the worker's minute took over at once
