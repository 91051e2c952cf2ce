import os
import signal
import subprocess
import sys
import time

from aicmo_site.management.base import AuditedCommand

# How long Ctrl-C waits for the three to stop before ending them and what they started.
STOP_SECONDS = 15


class Command(AuditedCommand):
    help = "Run the web server, a background worker and the journeys' runner together; Ctrl-C stops them all."

    def add_arguments(self, parser):
        parser.add_argument("--addr", default="127.0.0.1:8000", help="address:port of the web server")

    def handle(self, *args, addr, **options):
        # Started in the background by a script, a process inherits SIGINT ignored (POSIX shells ignore it
        # for asynchronous commands), and so would its children: Ctrl-C, or `kill -INT`, then stopped
        # nothing (CI's run of the test below timed out so). Caught here, it is back to the default in the
        # processes started next.
        signal.signal(signal.SIGINT, signal.default_int_handler)
        manage = [sys.executable, "manage.py"]
        # Each in its own process group, so that a stop can end a process with everything it started (the
        # worker's sentinel and task processes); Ctrl-C reaches them through stop() below.
        processes = {
            "worker": subprocess.Popen([*manage, "qcluster"], process_group=0),
            # Due journey steps are taken here within a second, never queued behind a send's emails on the
            # worker; the worker's minute leaves them to this loop while it is alive.
            "journeys": subprocess.Popen([*manage, "run_journeys", "--loop", "--no-triggers"], process_group=0),
            "web": subprocess.Popen([*manage, "runserver", addr, "--noreload"], process_group=0),
        }
        self.stdout.write(self.style.SUCCESS(
            f"AICMO is running at http://{addr}/  (Ctrl-C stops web, worker and journeys)"))

        def stop(*_):
            for process in processes.values():
                if process.poll() is None:
                    process.send_signal(signal.SIGINT)

        signal.signal(signal.SIGTERM, stop)
        try:
            while all(p.poll() is None for p in processes.values()):
                time.sleep(0.5)
            ended = [name for name, p in processes.items() if p.poll() is not None]
            self.stderr.write(f"{', '.join(ended)} stopped; stopping the rest.")
        except KeyboardInterrupt:
            pass
        finally:
            stop()
            # One deadline for all: waited for one after another, a worker still finishing a task and the
            # others took up to three times as long (over 60 s under load in CI).
            deadline = time.monotonic() + STOP_SECONDS
            for process in processes.values():
                try:
                    process.wait(timeout=max(deadline - time.monotonic(), 0.1))
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
                    process.wait()
