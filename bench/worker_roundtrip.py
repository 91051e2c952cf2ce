"""Tasks per second through a real qcluster (the project's broker and settings) against the
baseline of calling the same function in-process. Uses a throwaway SQLite database unless
DATABASE_URL is set."""

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main(argv):
    parser = argparse.ArgumentParser(prog="bench worker_roundtrip")
    parser.add_argument("--tasks", type=int, default=500)
    args = parser.parse_args(argv)

    tmp = tempfile.mkdtemp(prefix="aicmo-bench-")
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{tmp}/bench.sqlite3")
    from bench.conditions import describe, setup_django

    setup_django()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from django_q.models import Task
    from django_q.tasks import async_task

    from aicmo_site.tasks import worker_echo

    started = time.perf_counter()
    for n in range(args.tasks):
        worker_echo(str(n))
    baseline = args.tasks / (time.perf_counter() - started)

    Task.objects.all().delete()
    for n in range(args.tasks):
        async_task("aicmo_site.tasks.worker_echo", str(n))
    cluster = subprocess.Popen([sys.executable, "manage.py", "qcluster"], cwd=ROOT, env=os.environ.copy(),
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    started = time.perf_counter()
    try:
        while Task.objects.count() < args.tasks:
            if time.perf_counter() - started > 300:
                print("gave up after 300 s", file=sys.stderr)
                return 1
            time.sleep(0.2)
    finally:
        elapsed = time.perf_counter() - started
        cluster.terminate()
        cluster.wait(timeout=30)
    rate = args.tasks / elapsed
    print(describe(tasks=args.tasks))
    print(f"qcluster: {rate:,.0f} tasks/s (includes start-up) | in-process baseline: {baseline:,.0f} calls/s "
          f"| ratio {rate / baseline:.4f}")
    return 0
