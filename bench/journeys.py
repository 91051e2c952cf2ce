"""Journeys at scale, as a user meets them: N contacts join a segment and so enter a three-step journey
(add a tag, wait 0, an email through the normal sender to Postfix's smtp-sink, then exit); later N
waits of another journey fall due at once. The work is done as `run_all` lays it out: a real `qcluster`
with the shipped worker count (Q_WORKERS, 2) and the journeys' per-minute schedule, and a runner loop
(`run_journeys --loop`, --runner-loops) taking the due steps outside the queue.

Prints:
- the segment join and the enrolment it triggers (journeys_triggers_apply, the scheduled run's code);
- contact-steps per second, from the step log's own times (first to last step), for the internal
  steps (tag, wait, exit) and for the whole journey; the wait from enrolment to the first step;
- for the due waits: the lag of each contact's step behind its due time, p50 / p99 / max (the
  per-minute schedule's wake-up included);
- duplicates, counted per contact: step log rows per visit, tag links, deliveries, messages arriving
  at the sink (with --count-at-sink); and skips (an enrolment not finished, or not with its 4 steps);
- memory: RSS of the qcluster's processes and of the runner loops when idle at the start and at the end
  (and the peak seen);
- load average before, between and after.

Baseline, interleaved (before the journeys, between them, after them): a hand-written SKIP LOCKED
claim loop over a copy of the same enrolment rows (claim a batch by due time, log it, move it on,
commit), in this process: the floor the runner's bookkeeping sits on, without any step's effect.

    python -m bench journeys [--contacts 20000 | --million] [--batch 1000] [--workers 2] [--runner-loops 1]
        [--count-at-sink]
        [--database-url postgres://postgres@127.0.0.1:5432/aicmo_bench_journeys]

The database is made afresh (dropped and created): do not point it at data you want to keep.
"""

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from aicmo_site.testing.worker import process_tree

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/aicmo_bench_journeys"
# The due waits end this long after the runner is expected to have parked them all (a worker may be
# busy with the journey's emails first).
DUE_AFTER = 60


def _rss_mb(pids: list[int]) -> dict[int, float]:
    sizes = {}
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    sizes[pid] = int(line.split()[1]) / 1024
        except OSError:
            continue
    return sizes


def _memory(sizes: dict[int, float]) -> str:
    return f"{sum(sizes.values()):.0f} MB in {len(sizes)} processes (largest {max(sizes.values(), default=0):.0f} MB)"


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else float("nan")


def _load() -> str:
    return "/".join(f"{value:.1f}" for value in os.getloadavg())


def _empty_tables():
    """Empty the automation, CRM and email tables, and django-q's queue (a fresh database stays so)."""
    from django.db import connection

    from automation.models import Journey, JourneyEnrolment, JourneySegmentMember, JourneyStepRun
    from crm.models import Contact, Segment, Tag
    from publishing.email.models import EmailDelivery

    tables = [model._meta.db_table for model in (JourneyStepRun, JourneyEnrolment, JourneySegmentMember,
                                                  EmailDelivery, Journey, Contact.tags.through, Tag, Segment,
                                                  Contact)]
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE")
        cursor.execute("TRUNCATE django_q_ormq, django_q_task, django_q_schedule")


def _contacts(count: int) -> None:
    from django.db import connection
    from django.db.models.expressions import DatabaseDefault

    from crm.models import Contact

    table = connection.ops.quote_name(Contact._meta.db_table)
    started = time.perf_counter()
    # Every column the model fills by default, written by PostgreSQL itself: a million Python objects
    # would take the setup longer than the bench.
    fields = [field for field in Contact._meta.concrete_fields if not field.primary_key]
    template = Contact(email="x@bench.example", domain="bench.example")
    columns, values, params = [], [], []
    for field in fields:
        value = field.pre_save(template, add=True)
        if isinstance(value, DatabaseDefault):
            continue
        columns.append(connection.ops.quote_name(field.column))
        if field.name == "email":
            values.append("'p' || n || '@bench.example'")
        else:
            values.append("%s")
            params.append(field.get_db_prep_save(value, connection))
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {table} ({', '.join(columns)}) "  # noqa: S608 - quoted names, parameters
                       f"SELECT {', '.join(values)} FROM generate_series(1, %s) n", [*params, count])
        cursor.execute(f"ANALYZE {table}")
    print(f"setup: {count:,} contacts in {time.perf_counter() - started:.1f} s")


def _baseline(count: int, batch: int, turn: int) -> float:
    """Contact-steps per second of a bare SKIP LOCKED claim loop over a copy of the enrolment table:
    claim `batch` rows by due time, write their log rows, move them on, commit."""
    from django.db import connection, transaction

    from automation.models import JourneyEnrolment, JourneyStepRun

    enrolments, runs = JourneyEnrolment._meta.db_table, JourneyStepRun._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_claims, bench_claim_runs")
        # Every index and constraint of the real table: each move maintains them as the runner's does.
        cursor.execute(f"CREATE TABLE bench_claims (LIKE {enrolments} INCLUDING ALL)")
        cursor.execute(f"CREATE TABLE bench_claim_runs (LIKE {runs} INCLUDING ALL)")
        cursor.execute("INSERT INTO bench_claims (id, journey_id, contact_id, step_id, visit, due_at, status, reentry,"
                       " source, exit_reason, entered_at, is_test) SELECT n, 1, n, 1, 0, now(), 'waiting', 'once',"
                       " 'bench', '', now(), false FROM generate_series(1, %s) n", [count])
        cursor.execute("ANALYZE bench_claims")
    started, moved = time.perf_counter(), 0
    while True:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT id FROM bench_claims WHERE status IN ('active', 'waiting', 'awaiting') "
                           "AND due_at <= now() ORDER BY due_at LIMIT %s FOR UPDATE SKIP LOCKED", [batch])
            ids = [row[0] for row in cursor.fetchall()]
            if not ids:
                break
            cursor.execute("INSERT INTO bench_claim_runs (enrolment_id, step_id, visit, outcome, ran_at) "
                           "SELECT id, step_id, visit, 'next', now() FROM bench_claims WHERE id = ANY(%s)", [ids])
            cursor.execute("UPDATE bench_claims SET status = 'done', visit = visit + 1, due_at = NULL "
                           "WHERE id = ANY(%s)", [ids])
        moved += len(ids)
    seconds = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE bench_claims, bench_claim_runs")
    print(f"baseline {turn}: {moved / seconds:,.0f} contact-steps/s (load {_load()})")
    return moved / seconds


def _start_cluster(workers: int, email_concurrency: int | None, log: Path) -> subprocess.Popen:
    env = {**os.environ, "Q_WORKERS": str(workers), "PUBLIC_BASE_URL": "https://aicmo.example",
           "LOG_LEVEL": "WARNING", "GATEWAYS_ALLOW_PRIVATE_ADDRESSES": "true"}
    if email_concurrency:
        env["EMAIL_SEND_CONCURRENCY"] = str(email_concurrency)
    return subprocess.Popen([sys.executable, "manage.py", "qcluster"], cwd=ROOT, env=env, start_new_session=True,
                            stdout=log.open("wb"), stderr=subprocess.STDOUT)


def _start_runner_loops(count: int, log: Path) -> list[subprocess.Popen]:
    """`run_journeys --loop` processes beside the qcluster, as `run_all` starts one: the due steps are
    taken there, not behind the emails in the queue (the triggers stay with the minute's scheduled run)."""
    env = {**os.environ, "LOG_LEVEL": "WARNING"}
    return [subprocess.Popen([sys.executable, "manage.py", "run_journeys", "--loop", "--no-triggers"], cwd=ROOT,
                             env=env, start_new_session=True, stdout=log.open("ab"), stderr=subprocess.STDOUT)
            for _ in range(count)]


def _stop_cluster(cluster: subprocess.Popen) -> None:
    if cluster.poll() is None:
        os.killpg(cluster.pid, signal.SIGTERM)
        try:
            cluster.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(cluster.pid, signal.SIGKILL)
            cluster.wait(timeout=10)


def _wait_until(done, *, cluster, peak: dict, limit: float, what: str, loops: tuple = ()) -> float:
    """Polls `done` every second while watching the memory of the cluster's processes and the runner
    loops'; returns the seconds waited."""
    started = time.monotonic()
    while not done():
        if cluster.poll() is not None or any(loop.poll() is not None for loop in loops):
            raise RuntimeError(f"qcluster or a runner loop ended while waiting for {what}")
        if time.monotonic() - started > limit:
            raise RuntimeError(f"{what}: not done after {limit:.0f} s")
        for pid, size in _rss_mb(process_tree(cluster.pid) + [loop.pid for loop in loops]).items():
            peak[pid] = max(peak.get(pid, 0), size)
        time.sleep(1)
    return time.monotonic() - started


def _through(journey, *, cluster, peak: dict, loops: tuple) -> float:
    """Waits until no one is left on the journey; returns the seconds waited."""
    from automation.choices import ENROLMENT_LIVE
    from automation.models import JourneyEnrolment

    live = JourneyEnrolment.objects.filter(journey=journey, status__in=ENROLMENT_LIVE)
    return _wait_until(lambda: not live.exists(), cluster=cluster, peak=peak, limit=3 * 3600, what=journey.name,
                       loops=loops)


def _step_rates(journey, internal_kinds, since=None) -> tuple[int, float, int, float]:
    """(steps, per second) for the whole journey and for its internal steps, from the step log's times
    (those from `since` only, when given)."""
    from django.db.models import Count, Max, Min

    from automation.models import JourneyStepRun

    runs = JourneyStepRun.objects.filter(step__journey=journey)
    if since is not None:
        runs = runs.filter(ran_at__gte=since)
    whole = runs.aggregate(n=Count("id"), first=Min("ran_at"), last=Max("ran_at"))
    internal = runs.filter(step__kind__in=internal_kinds).aggregate(n=Count("id"), first=Min("ran_at"),
                                                                    last=Max("ran_at"))

    def rate(row):
        seconds = max((row["last"] - row["first"]).total_seconds(), 1e-3)
        return row["n"] / seconds

    return whole["n"], rate(whole), internal["n"], rate(internal)


def _duplicates_and_skips(journey, steps: int) -> dict[str, int]:
    """Per contact: a visit logged twice (the unique key makes it impossible; counted to show it), an
    enrolment not finished, or finished without exactly its `steps` steps (one skipped or repeated)."""
    from django.db.models import Count

    from automation.choices import EnrolmentStatus
    from automation.models import JourneyEnrolment, JourneyStepRun

    enrolments = JourneyEnrolment.objects.filter(journey=journey)
    return {
        "visit logged twice": JourneyStepRun.objects.filter(step__journey=journey).values("enrolment_id", "visit")
        .annotate(n=Count("id")).filter(n__gt=1).count(),
        "not finished": enrolments.exclude(status=EnrolmentStatus.DONE).count(),
        f"not {steps} steps": enrolments.annotate(n=Count("runs")).exclude(n=steps).count(),
    }


def main(argv):
    parser = argparse.ArgumentParser(prog="bench journeys", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--contacts", type=int, default=20_000)
    parser.add_argument("--million", action="store_true", help="1,000,000 contacts")
    parser.add_argument("--batch", type=int, default=1000, help="the baseline's batch (the runner's is its own)")
    parser.add_argument("--workers", type=int, default=2, help="Q_WORKERS of the qcluster")
    parser.add_argument("--email-concurrency", type=int,
                        help="EMAIL_SEND_CONCURRENCY of the qcluster (unset: the shipped default, 2, which takes "
                             "both of 2 workers while the journey's emails go out)")
    parser.add_argument("--runner-loops", type=int, default=1,
                        help="`run_journeys --loop` processes beside the qcluster (run_all starts 1; 0: the due "
                             "steps run in the queue only, as before)")
    parser.add_argument("--count-at-sink", action="store_true",
                        help="smtp-sink writes every message to a file, to count per recipient what arrived")
    parser.add_argument("--mail-wait", type=float, default=120,
                        help="seconds to wait after the journeys for the emails still being sent")
    parser.add_argument("--parked-per-second", type=float, default=1000,
                        help="the parking rate the due time allows for: the waits fall due 60 s after count / this "
                             "(the bench says so when they were parked too late)")
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL))
    args = parser.parse_args(argv)
    count = 1_000_000 if args.million else args.contacts
    if count < 1 or args.batch < 1 or args.workers < 1 or args.runner_loops < 0 or args.parked_per_second <= 0:
        print("--contacts, --batch and --workers must be at least 1, --runner-loops at least 0, --parked-per-second "
              "above 0", file=sys.stderr)
        return 2
    from bench.conditions import bench_database

    admin, url, _reused = bench_database(args.database_url.rsplit("/", 1)[1])
    os.environ["DATABASE_URL"] = url
    from django.conf import settings
    from django.db.models import Count
    from django.utils import timezone
    from django_q.models import Schedule
    from django_q.tasks import async_task

    from automation.models import JourneyStepRun
    from automation.schedules import SCHEDULES
    from automation.services import journey_activate, journey_create, journey_enrol, journeys_triggers_apply
    from bench.conditions import describe
    from bench.email_send import arrived_at_sink
    from bench.email_smtp_baseline import start_counting_sink
    from crm.models import Contact
    from crm.services import contacts_tag, segment_create
    from gateways import services as gateway_services
    from gateways.capabilities import Capability
    from publishing.email.choices import DELIVERY_UNSENT
    from publishing.email.models import EmailDelivery, EmailTemplate
    from publishing.tests.email.factories import HTML_BODY

    settings.DEBUG = False
    print(describe(contacts=count, workers=args.workers, runner_loops=args.runner_loops,
                   email_concurrency=args.email_concurrency or "default", load_before=_load()))
    sink, port, dump, dump_dir = start_counting_sink(args.count_at_sink, "bench-journeys-sink-")
    cluster, loops = None, []
    try:
        _empty_tables()
        gateway_services.account_create(capability=Capability.EMAIL_SENDING, adapter="smtp", name="bench sink",
                                        settings={"host": "127.0.0.1", "port": port, "security": "none",
                                                  "from_email": "AICMO <news@bench.example>"})
        template = EmailTemplate.objects.create(name="Bench welcome", subject="Hi", html_body=HTML_BODY)
        _contacts(count)
        segment = segment_create(name="Joined the bench", rules={
            "op": "and", "rules": [{"field": "tags", "operator": "any", "value": ["joined"]}]})
        welcome = journey_activate(journey=journey_create(
            name="Welcome", entry_triggers=[{"kind": "segment_entered", "segment_id": segment.pk}], steps=[
                {"key": "tag", "kind": "add_tag", "config": {"tag": "welcomed"}, "next": "pause"},
                {"key": "pause", "kind": "wait", "config": {"seconds": 0}, "next": "mail"},
                {"key": "mail", "kind": "send_email", "config": {"template_id": template.pk}, "next": "end"},
                {"key": "end", "kind": "exit"}]))
        for schedule in SCHEDULES:
            if schedule["func"] == "automation.tasks.journeys_run":
                Schedule.objects.create(**schedule, next_run=timezone.now())
        baselines = [_baseline(count, args.batch, 1)]

        log = Path(tempfile.gettempdir()) / f"bench-journeys-qcluster-{os.getpid()}.log"
        cluster = _start_cluster(args.workers, args.email_concurrency, log)
        # The cluster's processes up (itself, sentinel, monitor, pusher, workers), its first scheduled run done.
        _wait_until(lambda: len(process_tree(cluster.pid)) >= args.workers + 4, cluster=cluster, peak={}, limit=120,
                    what="the qcluster's processes")
        loops = _start_runner_loops(args.runner_loops, log)
        time.sleep(5)
        idle = _rss_mb(process_tree(cluster.pid))
        loops_idle = _rss_mb([loop.pid for loop in loops])
        peak = {**idle, **loops_idle}
        print(f"qcluster idle: {_memory(idle)}; runner loops idle: {_memory(loops_idle)}; log {log}")

        started = time.perf_counter()
        contacts_tag(contacts=Contact.objects.all(), tag_names=["joined"])
        joined = time.perf_counter() - started
        started = time.perf_counter()
        found = journeys_triggers_apply()
        enrolled_at = timezone.now()
        enrol = time.perf_counter() - started
        print(f"segment join: {count:,} tagged in {joined:.1f} s; triggers enrolled {found['enrolled']:,} in "
              f"{enrol:.1f} s (load {_load()})")
        waited = _through(welcome, cluster=cluster, peak=peak, loops=loops)
        steps, whole, internal_steps, internal = _step_rates(welcome, ("add_tag", "wait", "exit"))
        first = JourneyStepRun.objects.filter(step__journey=welcome).order_by("ran_at").values_list(
            "ran_at", flat=True).first()
        print(f"welcome journey: {steps:,} contact-steps at {whole:,.0f}/s; internal {internal_steps:,} (the span "
              f"includes the emails) at {internal:,.0f}/s; first step {(first - enrolled_at).total_seconds():.1f} s "
              f"after enrolment; all through {waited:.0f} s after it (load {_load()})")
        welcome_checks = _duplicates_and_skips(welcome, 4)

        baselines.append(_baseline(count, args.batch, 2))

        # Everyone parked by the runner on a wait that ends at one moment, after all are parked.
        due = timezone.now() + timedelta(seconds=DUE_AFTER + count / args.parked_per_second)
        waits = journey_activate(journey=journey_create(name="Due waits", steps=[
            {"key": "pause", "kind": "wait", "config": {"until": due.isoformat()}, "next": "tag"},
            {"key": "tag", "kind": "add_tag", "config": {"tag": "after-wait"}, "next": "end"},
            {"key": "end", "kind": "exit"}]))
        journey_enrol(journey=waits, contacts=Contact.objects.all(), source="bench")
        async_task("automation.tasks.journeys_run_steps")  # as the minute's run would, up to a minute later
        tag_step = waits.steps.get(key="tag")
        parked = JourneyStepRun.objects.filter(step__journey=waits, step__key="pause")
        _wait_until(lambda: parked.count() >= count, cluster=cluster, peak=peak, limit=3 * 3600,
                    what="the waits parked", loops=loops)
        ahead = (due - timezone.now()).total_seconds()
        print(f"due waits: {count:,} parked, due at once {ahead:.0f} s later"
              + ("" if ahead > 0 else " (parked too late: their lag is the parking's, not the wake-up's)"))
        _through(waits, cluster=cluster, peak=peak, loops=loops)
        lags = [(ran - due).total_seconds() for ran in JourneyStepRun.objects.filter(step=tag_step)
                .values_list("ran_at", flat=True).iterator(chunk_size=20_000)]
        _steps, _whole, internal_steps, internal_waits = _step_rates(
            waits, ("add_tag", "exit"), since=due)
        print(f"due waits: {internal_steps:,} internal contact-steps at {internal_waits:,.0f}/s; lag behind the due "
              f"time p50 {_percentile(lags, 0.5):.1f} s, p99 {_percentile(lags, 0.99):.1f} s, max {max(lags):.1f} s "
              f"(load {_load()})")
        waits_checks = _duplicates_and_skips(waits, 3)

        baselines.append(_baseline(count, args.batch, 3))

        sendable = EmailDelivery.objects.filter(status__in=DELIVERY_UNSENT)
        try:
            _wait_until(lambda: not sendable.exists(), cluster=cluster, peak=peak, limit=args.mail_wait,
                        what="the emails", loops=loops)
        except RuntimeError as late:
            print(f"emails: {late}")
        end = _rss_mb(process_tree(cluster.pid))
        loop_pids = [loop.pid for loop in loops]
        loops_end = _rss_mb(loop_pids)
        for loop in loops:
            _stop_cluster(loop)
        _stop_cluster(cluster)
        cluster = None

        by_status = dict(EmailDelivery.objects.values_list("status").annotate(n=Count("id")).order_by())
        # Tag links are unique per contact and tag: their count shows that none was missed.
        tagged = Contact.tags.through.objects.filter(tag__name__in=("welcomed", "after-wait")).count()
        mail_twice = (EmailDelivery.objects.values("campaign_id", "contact_id").annotate(n=Count("id"))
                      .filter(n__gt=1).count())
        at_sink = ""
        if dump:
            arrived = arrived_at_sink(dump)
            at_sink = (f"; at the sink {sum(arrived.values()):,} messages, recipients with two or more "
                       f"{sum(1 for n in arrived.values() if n > 1)}")
        checks = {f"welcome: {k}": v for k, v in welcome_checks.items()}
        checks.update({f"due waits: {k}": v for k, v in waits_checks.items()})
        checks["contacts with two deliveries"] = mail_twice
        print(f"checks: {checks}; tag links {tagged:,} (expected {2 * count:,})")
        print(f"emails: deliveries by status {by_status}{at_sink}")
        print(f"memory: qcluster idle {_memory(idle)}, at the end {_memory(end)}, peak seen "
              f"{_memory({pid: size for pid, size in peak.items() if pid not in loop_pids})}; runner loops idle "
              f"{_memory(loops_idle)}, at the end {_memory(loops_end)}")
        print(f"summary (postgresql, {args.workers} workers, {args.runner_loops} runner loops): internal "
              f"contact-steps/s (due waits) {internal_waits:,.0f}; whole welcome journey {whole:,.0f}/s; "
              f"baseline claim loop {statistics.median(baselines):,.0f}/s "
              f"(median of {', '.join(f'{b:,.0f}' for b in baselines)}); "
              f"due-wait lag p50 {_percentile(lags, 0.5):.1f} s p99 {_percentile(lags, 0.99):.1f} s; "
              f"load after {_load()}")
        return 0 if not any(checks.values()) and tagged == 2 * count else 1
    finally:
        for loop in loops:
            _stop_cluster(loop)
        if cluster is not None:
            _stop_cluster(cluster)
        sink.kill()
        if dump_dir:
            dump_dir.cleanup()
        admin.close()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
