"""CPU per contact taken off a due wait by the journeys' runner, this process and its PostgreSQL backend
together: what decides whether 1,000,000 waits falling due at once are all taken within a minute on two
cores (bench journeys --million), measured so that a busy machine does not move it much.

Each round: N contacts parked by the runner on a wait (then a tag, then the exit), all made due at once
(one UPDATE, then VACUUM ANALYZE so no round inherits another's dead rows), then taken by
`journeys_run_batch` in batches as `run_journeys --loop` does. Prints per contact: the client's CPU
(process_time), the backend's (/proc/<pid>/stat utime + stime), their sum and the wall time, with the
load average (not the WAL: PostgreSQL counts it for the whole server, other databases included).

    python -m bench journeys_cpu [--contacts 100000] [--batch 5000] [--rounds 3] [--profile FILE] [--explain]
        [--reuse] [--database-url postgres://postgres@127.0.0.1:5432/aicmo_bench_journeys_cpu]

To compare two versions of the code, alternate rounds of each (`--rounds 1`, one checkout after the
other, each on its own database) and compare the medians.
"""

import argparse
import cProfile
import os
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/aicmo_bench_journeys_cpu"
TICKS = os.sysconf("SC_CLK_TCK")


def _backend_cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def _explained(execute, sql, params, many, context):
    """Runs each statement once more before it runs, under EXPLAIN (ANALYZE, BUFFERS, WAL) in a savepoint
    rolled back, with the deferred foreign-key checks made immediate so their triggers' time shows."""
    if not many and sql.lstrip()[:6].upper() in ("SELECT", "INSERT", "UPDATE", "DELETE", "WITH M"):
        raw = context["cursor"].cursor
        raw.execute("SAVEPOINT bench_explain")
        raw.execute("SET CONSTRAINTS ALL IMMEDIATE")
        raw.execute("EXPLAIN (ANALYZE, BUFFERS, WAL) " + sql, params)
        plan = "\n".join(row[0] for row in raw.fetchall())
        raw.execute("ROLLBACK TO SAVEPOINT bench_explain")
        print(f"--- {sql[:160]}\n{plan}\n")
    return execute(sql, params, many, context)


def _round(count: int, batch: int, profile: str | None, explain: bool = False) -> dict:
    from django.db import connection, reset_queries
    from django.utils import timezone

    from automation.choices import EnrolmentStatus
    from automation.models import JourneyEnrolment, JourneyStepRun
    from automation.services import (
        journey_activate,
        journey_create,
        journey_enrol,
        journeys_run_batch,
        journeys_run_due,
    )
    from bench.journeys import _contacts, _empty_tables, _load
    from crm.models import Contact
    from crm.services import contacts_tag

    _empty_tables()
    _contacts(count)
    # As in bench journeys, every contact already has a tag (the segment's), so the tag links' statistics
    # are those of a table in use, not of an empty one.
    contacts_tag(contacts=Contact.objects.all(), tag_names=["joined"])
    far = timezone.now() + timedelta(days=365)
    waits = journey_activate(journey=journey_create(name="Due waits", steps=[
        {"key": "pause", "kind": "wait", "config": {"until": far.isoformat()}, "next": "tag"},
        {"key": "tag", "kind": "add_tag", "config": {"tag": "after-wait"}, "next": "end"},
        {"key": "end", "kind": "exit"}]))
    journey_enrol(journey=waits, contacts=Contact.objects.all(), source="bench")
    journeys_run_due(size=batch)
    parked = JourneyEnrolment.objects.filter(journey=waits, status=EnrolmentStatus.WAITING)
    assert parked.count() == count, "not every contact was parked on the wait"
    parked.update(due_at=timezone.now() - timedelta(seconds=1))
    with connection.cursor() as cursor:
        for model in (JourneyEnrolment, JourneyStepRun, Contact.tags.through, Contact):
            cursor.execute(f"VACUUM ANALYZE {connection.ops.quote_name(model._meta.db_table)}")
        cursor.execute("SELECT pg_backend_pid()")
        backend = cursor.fetchone()[0]
    load = _load()
    profiler = cProfile.Profile() if profile else None
    wall, client, server = time.perf_counter(), time.process_time(), _backend_cpu(backend)
    if profiler:
        profiler.enable()
    if explain:
        with connection.execute_wrapper(_explained):
            journeys_run_batch(size=batch)
        return {}
    taken = 0
    while True:
        reset_queries()
        took = journeys_run_batch(size=batch)
        if not took:
            break
        taken += took
    if profiler:
        profiler.disable()
    wall, client, server = (time.perf_counter() - wall, time.process_time() - client,
                            _backend_cpu(backend) - server)
    if profiler:
        profiler.dump_stats(profile)
    assert taken == count, f"took {taken} of {count}"
    assert not JourneyEnrolment.objects.filter(journey=waits).exclude(status=EnrolmentStatus.DONE).exists()
    per = 1e6 / count
    return {"client": client * per, "backend": server * per, "total": (client + server) * per,
            "wall": wall * per, "load": f"{load} -> {_load()}"}


def main(argv):
    parser = argparse.ArgumentParser(prog="bench journeys_cpu", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--contacts", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=5000, help="contacts claimed per transaction (the loop's)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--profile", help="write the client's cProfile of the last round here")
    parser.add_argument("--explain", action="store_true",
                        help="no figures: EXPLAIN (ANALYZE, BUFFERS, WAL) every statement of one batch")
    parser.add_argument("--reuse", action="store_true", help="keep the database of an earlier run (migrated on)")
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL))
    args = parser.parse_args(argv)
    if args.contacts < 1 or args.batch < 1 or args.rounds < 1:
        print("--contacts, --batch and --rounds must be at least 1", file=sys.stderr)
        return 2
    from bench.conditions import bench_database

    admin, _url, _reused = bench_database(args.database_url.rsplit("/", 1)[1], reuse=args.reuse)
    from django.conf import settings

    from bench.conditions import describe

    settings.DEBUG = False
    print(describe(contacts=args.contacts, batch=args.batch))
    try:
        if args.explain:
            _round(args.contacts, args.batch, None, explain=True)
            return 0
        totals = []
        for turn in range(1, args.rounds + 1):
            figures = _round(args.contacts, args.batch, args.profile if turn == args.rounds else None)
            totals.append(figures["total"])
            print(f"round {turn}: CPU per contact {figures['total']:.1f} us (client {figures['client']:.1f}, "
                  f"PostgreSQL backend {figures['backend']:.1f}); wall "
                  f"{figures['wall']:.1f} us (load {figures['load']})")
        print(f"summary: CPU per contact median {statistics.median(totals):.1f} us of "
              f"{', '.join(f'{total:.1f}' for total in totals)}")
        return 0
    finally:
        admin.close()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
