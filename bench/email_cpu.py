"""Where the CPU of sending an email campaign goes, per message, and how many round trips a message costs:
on a loaded machine the messages-per-second ratio of email_send measures the load, but CPU time and
round trips do not, and on an idle 2-core machine the whole machine's CPU per message is what limits
email_send (the workers, their PostgreSQL backends and smtp-sink share the cores).

Each round sends email_send's campaign (same template, same audience size, a fresh audience) with the
shipped number of workers, each a process of its own, and reports per message sent:
- worker: the worker processes' CPU (utime + stime, whole process including Django's start-up) and,
  inside it, worker_run's alone (time.process_time), what a django-q2 worker, started already, spends;
- backend: the CPU of each worker's PostgreSQL backends (/proc/<pid>/stat of the Django connection and
  of the marks' connection, connecting included);
- smtp-sink: the sink's CPU over the AICMO part of the round;
- postgres other: PostgreSQL's own processes (WAL writer, checkpointer, background writer, autovacuum)
  over the same time: the whole server's, other databases included, so only a hint on a shared machine;
- waits: the workers' voluntary context switches (each time a worker blocked: a read that had to wait
  for PostgreSQL or the sink), the serial round trips of its loop;
- round trips: statements on the worker's Django connection and marks statements, commits and row
  updates of the database (pg_stat_database), HOT updates of the delivery table, SMTP writes and replies;
- the bare smtplib loop of email_send over the same number of pre-rendered messages: its client's CPU and
  the sink's, for comparison (the ratio email_send reports is about the ratio of these totals when the
  machine's CPU is the limit).

With --against, each round runs once per checkout in turn (this one first), each on its own database
(DATABASE_URL's name with the checkout's label appended), so two versions of the code (or of the settings,
`label=path:EMAIL_CONNECTIONS_PER_WORKER=8`) are compared alternately; medians over the rounds at the end.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/aicmo_cpu python -m bench email_cpu 3000 --rounds 3 \\
        --against base=/path/to/main
"""

import argparse
import base64
import cProfile
import json
import os
import secrets
import statistics
import subprocess
import sys
import time
from pathlib import Path

if os.environ.get("EMAIL_CPU_CHECKOUT"):  # a round or worker of another checkout: its code, not this one's
    sys.path.insert(0, os.environ["EMAIL_CPU_CHECKOUT"])

HERE = Path(__file__).resolve()
ROOT = HERE.parent.parent
TICKS = os.sysconf("SC_CLK_TCK")
POSTGRES_HELPERS = ("walwriter", "checkpointer", "background writer", "autovacuum")


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process, 0 when it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICKS


def postgres_helpers_cpu() -> float:
    total = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes().decode(errors="replace")
        except OSError:
            continue
        if command.startswith("postgres: ") and any(name in command for name in POSTGRES_HELPERS):
            total += cpu_seconds(int(entry.name))
    return total


def load() -> str:
    return "{:.1f}/{:.1f}/{:.1f}".format(*os.getloadavg())


# ---- a worker process ------------------------------------------------------------------------------

def worker_main(email_campaign_id: int) -> int:
    import smtplib
    from unittest import mock

    from bench.conditions import setup_django

    setup_django()
    from django.db import connection

    from publishing.email.sender import marks, worker_run

    counts = {"statements": 0, "marks": 0, "smtp_writes": 0, "smtp_replies": 0}
    backends: dict[int, float] = {}

    def counting(execute, sql, params, many, context):
        counts["statements"] += 1
        return execute(sql, params, many, context)

    real_statement, real_close = marks._statement, marks.WorkerMarks.close
    real_send, real_getreply = smtplib.SMTP.send, smtplib.SMTP.getreply

    def statement(*args, **kwargs):
        found = real_statement(*args, **kwargs)
        counts["marks"] += found is not None
        return found

    def close(self):
        if self._own is not None:
            pid = self._own.info.backend_pid
            backends[pid] = cpu_seconds(pid)
        return real_close(self)

    def send(self, data):
        counts["smtp_writes"] += 1
        return real_send(self, data)

    def getreply(self):
        counts["smtp_replies"] += 1
        return real_getreply(self)

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        django_backend = cursor.fetchone()[0]
    started = time.process_time()
    with (mock.patch.object(marks, "_statement", statement), mock.patch.object(marks.WorkerMarks, "close", close),
          mock.patch.object(smtplib.SMTP, "send", send), mock.patch.object(smtplib.SMTP, "getreply", getreply),
          connection.execute_wrapper(counting)):
        if os.environ.get("EMAIL_CPU_PROFILE"):  # a folder: each worker's cProfile (CPU clock) is written there
            profile = cProfile.Profile(time.process_time)
            report = profile.runcall(worker_run, email_campaign_id=email_campaign_id, budget_seconds=24 * 3600)
            profile.dump_stats(Path(os.environ["EMAIL_CPU_PROFILE"]) / f"worker-{os.getpid()}.prof")
        else:
            report = worker_run(email_campaign_id=email_campaign_id, budget_seconds=24 * 3600)
    run_cpu = time.process_time() - started
    backends[django_backend] = cpu_seconds(django_backend)
    status = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines())
    print(json.dumps({"sent": report.sent, "run_cpu": run_cpu, "process_cpu": cpu_seconds(os.getpid()),
                      "backend_cpu": sum(backends.values()), "waits": int(status["voluntary_ctxt_switches"]),
                      **counts}))
    return 0


# ---- one round of one checkout ---------------------------------------------------------------------

def database_counters(cursor, dbname: str) -> dict:
    cursor.execute("SELECT pg_stat_clear_snapshot()")
    cursor.execute("SELECT xact_commit, tup_updated, tup_inserted, tup_fetched FROM pg_stat_database "
                   "WHERE datname = %s", [dbname])
    commits, updated, inserted, fetched = cursor.fetchone()
    cursor.execute("SELECT n_tup_upd, n_tup_hot_upd FROM pg_stat_user_tables WHERE relname = %s",
                   ["publishing_emaildelivery"])
    delivery_updates, hot = cursor.fetchone()
    return {"commits": commits, "rows_updated": updated, "rows_inserted": inserted, "rows_fetched": fetched,
            "delivery_updates": delivery_updates, "delivery_hot_updates": hot}


def round_main(audience: int, size: int, number: int) -> int:
    from unittest import mock

    from bench.conditions import setup_django

    os.environ.setdefault("GATEWAYS_ALLOW_PRIVATE_ADDRESSES", "1")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ.setdefault("DEBUG", "0")
    setup_django()
    from django.core.management import call_command
    from django.db import connection

    from bench.email_send import baseline_payloads, make_campaign
    from bench.email_smtp_baseline import smtplib_baseline, start_sink
    from publishing.email import conf
    from publishing.email.services import email_campaign_send

    call_command("migrate", verbosity=0)
    dbname = connection.settings_dict["NAME"]
    sink, port = start_sink()
    try:
        email_campaign = make_campaign(audience, size, port, number)
        payloads, _size = baseline_payloads(email_campaign, audience)
        sink_before, client_before = cpu_seconds(sink.pid), time.process_time()
        smtplib_baseline("127.0.0.1", port, payloads)
        baseline = {"client": time.process_time() - client_before, "sink": cpu_seconds(sink.pid) - sink_before}
        del payloads
        # Settle what the set-up wrote (the stats are sent at most once a second) before counting.
        time.sleep(1.2)
        with connection.cursor() as cursor:
            before = database_counters(cursor, dbname)
        helpers_before, sink_before, load_before = postgres_helpers_cpu(), cpu_seconds(sink.pid), load()
        started = time.perf_counter()
        with mock.patch("publishing.email.services.campaigns.campaign_wake"):
            email_campaign_send(email_campaign=email_campaign)
        env = {**os.environ, "EMAIL_CPU_CHECKOUT": os.environ.get("EMAIL_CPU_CHECKOUT", str(ROOT))}
        workers = [subprocess.Popen([sys.executable, str(HERE), "--worker-for", str(email_campaign.pk)],
                                    cwd=env["EMAIL_CPU_CHECKOUT"], env=env, stdout=subprocess.PIPE, text=True)
                   for _ in range(conf.send_concurrency())]
        reports = [json.loads(w.communicate()[0].strip().splitlines()[-1]) for w in workers]
        elapsed = time.perf_counter() - started
        sink_cpu, helpers_cpu = cpu_seconds(sink.pid) - sink_before, postgres_helpers_cpu() - helpers_before
        load_after = load()
        time.sleep(1.2)  # the backends' last stats
        with connection.cursor() as cursor:
            after = database_counters(cursor, dbname)
    finally:
        sink.terminate()
        sink.wait(timeout=10)
    sent = sum(r["sent"] for r in reports)
    result = {
        "sent": sent, "elapsed": elapsed, "load": f"{load_before} -> {load_after}",
        **{key: sum(r[key] for r in reports) for key in ("run_cpu", "process_cpu", "backend_cpu", "statements",
                                                         "marks", "smtp_writes", "smtp_replies", "waits")},
        "sink_cpu": sink_cpu, "postgres_other_cpu": helpers_cpu,
        **{key: after[key] - before[key] for key in before},
        "baseline_client_cpu": baseline["client"], "baseline_sink_cpu": baseline["sink"],
    }
    print(json.dumps(result))
    return 0


# ---- the rounds, alternating checkouts --------------------------------------------------------------

US = ("worker", "worker_run", "backend", "sink", "postgres_other", "total", "baseline")
PER_MESSAGE = ("waits", "statements", "marks", "commits", "rows_updated", "delivery_updates", "delivery_hot_updates",
               "smtp_writes", "smtp_replies")


def per_message(result: dict) -> dict:
    sent = max(result["sent"], 1)
    figures = {
        "worker": result["process_cpu"], "worker_run": result["run_cpu"], "backend": result["backend_cpu"],
        "sink": result["sink_cpu"], "postgres_other": result["postgres_other_cpu"],
        "total": result["run_cpu"] + result["backend_cpu"] + result["sink_cpu"],
        "baseline": result["baseline_client_cpu"] + result["baseline_sink_cpu"],
    }
    return {**{key: value * 1e6 / sent for key, value in figures.items()},
            **{key: result[key] / sent for key in PER_MESSAGE}}


def describe_round(label: str, result: dict) -> str:
    figures = per_message(result)
    cpu = " | ".join(f"{key} {figures[key]:,.0f}" for key in US)
    trips = " | ".join(f"{key} {figures[key]:.2f}" for key in PER_MESSAGE)
    return (f"{label}: sent {result['sent']:,} in {result['elapsed']:.1f} s, load {result['load']}\n"
            f"    CPU us/message: {cpu} (total: worker_run + backend + sink; baseline: bare loop client + sink)\n"
            f"    per message: {trips}")


def main(argv):
    parser = argparse.ArgumentParser(prog="bench email_cpu", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("audience", type=int, nargs="?", default=3000)
    parser.add_argument("--size", type=int, default=10_000, help="approximate HTML bytes per message")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--against", action="append", default=[], metavar="LABEL=PATH[:NAME=VALUE...]",
                        help="another checkout to alternate with, with settings of its own (repeatable)")
    parser.add_argument("--label", default="this", help="this checkout's label")
    parser.add_argument("--round", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--worker-for", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker_for:
        return worker_main(args.worker_for)
    if args.round:
        return round_main(args.audience, args.size, args.round)
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        print("DATABASE_URL=postgres://… is needed: the backends' CPU is PostgreSQL's", file=sys.stderr)
        return 2
    # Rounds and workers share these through their environment, as in email_send.
    os.environ.setdefault("SECRET_KEY", "bench-email-cpu-" + secrets.token_hex(24))
    os.environ.setdefault("FIELD_ENCRYPTION_KEY", base64.urlsafe_b64encode(secrets.token_bytes(32)).decode())
    checkouts = [(args.label, ROOT, {})]
    for item in args.against:
        label, where = item.split("=", 1)
        path, *settings = where.split(":")
        checkouts.append((label, Path(path).resolve(), dict(setting.split("=", 1) for setting in settings)))
    results: dict[str, list] = {label: [] for label, _path, _settings in checkouts}
    for number in range(1, args.rounds + 1):
        for label, path, settings in checkouts:
            env = {**os.environ, **settings, "EMAIL_CPU_CHECKOUT": str(path), "DATABASE_URL": f"{url}_{label}"}
            done = subprocess.run([sys.executable, str(HERE), str(args.audience), "--size", str(args.size),
                                   "--round", str(number)], cwd=path, env=env, stdout=subprocess.PIPE, text=True,
                                  check=True)
            result = json.loads(done.stdout.strip().splitlines()[-1])
            results[label].append(result)
            print(describe_round(f"round {number}, {label}", result), flush=True)
    print(f"medians of {args.rounds} rounds, {args.audience:,} messages each:")
    for label, rounds in results.items():
        figures = [per_message(result) for result in rounds]
        cpu = " | ".join(f"{key} {statistics.median(f[key] for f in figures):,.0f}" for key in US)
        trips = " | ".join(f"{key} {statistics.median(f[key] for f in figures):.2f}" for key in PER_MESSAGE)
        print(f"  {label}: CPU us/message: {cpu}\n      per message: {trips}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
