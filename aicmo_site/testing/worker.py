"""A real django-q2 cluster in a child process, for tests about background work.

The child uses the test settings and connects to the database the test run created, so it sees
what a `transactional_db` test commits.
"""

import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent.parent


def child_process_env(extra_env: dict) -> dict:
    """The environment of a process started by a test: the test settings, on the test's database and files."""
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "aicmo_site.settings.test",
        "AICMO_TEST_WORKER_DATABASE": connection.settings_dict["NAME"],
        # The process reads and writes the files the test sees (uploads, renditions, imports).
        "AICMO_TEST_WORKER_MEDIA_ROOT": str(settings.MEDIA_ROOT),
        **extra_env,
    }


class QClusterProcess:
    def __init__(self, *, extra_env: dict | None = None):
        self.extra_env = extra_env or {}
        self.process: subprocess.Popen | None = None
        self.log_path = Path(settings.MEDIA_ROOT).parent / (
            f"{type(self).__name__.lower()}-{os.getpid()}-{time.monotonic_ns()}.log")

    command = ("manage.py", "qcluster")

    def start(self) -> "QClusterProcess":
        self._log = open(self.log_path, "wb")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            [sys.executable, *self.command], cwd=ROOT, env=child_process_env(self.extra_env), stdout=self._log,
            stderr=subprocess.STDOUT, start_new_session=True,
        )
        return self

    def kill(self) -> None:
        """SIGKILL the whole process group: the cluster's sentinel and all its workers."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        # A graceful qcluster stop (SIGTERM) did not end within a minute when measured, so a moment's
        # grace only made each test wait for it; a test's worker holds nothing worth waiting for.
        self.kill()
        if getattr(self, "_log", None):
            self._log.close()

    def output(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


class WebProcess(QClusterProcess):
    """The site served by gunicorn in a child process, as one web machine of a scaled-out layout."""

    def __init__(self, *, port: int, extra_env: dict | None = None):
        self.command = ("-m", "gunicorn", "aicmo_site.wsgi", "--workers", "2", "--bind", f"127.0.0.1:{port}",
                        "--timeout", "120")
        self.url = f"http://127.0.0.1:{port}"
        super().__init__(extra_env=extra_env)

    def start(self) -> "WebProcess":
        super().start()
        wait_for(self._answers, timeout=60, interval=0.2, message=f"gunicorn at {self.url}")
        return self

    def _answers(self) -> bool:
        if self.process.poll() is not None:
            raise AssertionError(f"gunicorn exited: {self.output()[-2000:]}")
        try:
            with urllib.request.urlopen(f"{self.url}/healthz", timeout=5) as answer:  # noqa: S310 - our own http URL
                return answer.status == 200
        except OSError:
            return False


def wait_for(predicate, *, timeout: float = 30, interval: float = 0.1, message: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {message}")


def process_tree(pid: int) -> list[int]:
    """The process and its descendants (a qcluster's sentinel, monitor, pusher and workers; run_all's children)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(parent, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(children.get(current, ()))
    return found
