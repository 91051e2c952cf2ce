import signal
import subprocess
import sys
import time

from aicmo_site.management.base import AuditedCommand


class Command(AuditedCommand):
    help = "Run the web server, a background worker and the journeys' runner together; Ctrl-C stops them all."

    def add_arguments(self, parser):
        parser.add_argument("--addr", default="127.0.0.1:8000", help="address:port of the web server")

    def handle(self, *args, addr, **options):
        manage = [sys.executable, "manage.py"]
        processes = {
            "worker": subprocess.Popen([*manage, "qcluster"]),
            # Due journey steps are taken here within a second, never queued behind a send's emails on the
            # worker; the worker's minute still enrols from the triggers and lends a hand with a backlog.
            "journeys": subprocess.Popen([*manage, "run_journeys", "--loop", "--no-triggers"]),
            "web": subprocess.Popen([*manage, "runserver", addr, "--noreload"]),
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
            for process in processes.values():
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    process.kill()
