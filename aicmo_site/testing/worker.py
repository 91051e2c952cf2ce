"""A real django-q2 cluster in a child process, for tests about background work.

The child uses the test settings and connects to the database the test run created, so it sees
what a `transactional_db` test commits.
"""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent.parent


class QClusterProcess:
    def __init__(self, *, extra_env: dict | None = None):
        self.extra_env = extra_env or {}
        self.process: subprocess.Popen | None = None
        self.log_path = Path(settings.MEDIA_ROOT).parent / f"qcluster-{os.getpid()}-{time.monotonic_ns()}.log"

    def start(self) -> "QClusterProcess":
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "aicmo_site.settings.test",
            "AICMO_TEST_WORKER_DATABASE": connection.settings_dict["NAME"],
            # The worker reads and writes the files the test sees (uploads, renditions, imports).
            "AICMO_TEST_WORKER_MEDIA_ROOT": str(settings.MEDIA_ROOT),
            **self.extra_env,
        }
        self._log = open(self.log_path, "wb")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            [sys.executable, str(ROOT / "manage.py"), "qcluster"],
            cwd=ROOT, env=env, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        return self

    def kill(self) -> None:
        """SIGKILL the whole process group: the cluster's sentinel and all its workers."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        # A graceful qcluster stop waits for its guard cycle (tens of seconds); a test's worker
        # holds nothing worth waiting for, so it gets a moment and then the whole group is killed.
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=3)
            except subprocess.TimeoutExpired:
                self.kill()
        if getattr(self, "_log", None):
            self._log.close()

    def output(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


def wait_for(predicate, *, timeout: float = 30, interval: float = 0.1, message: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {message}")
