"""Data retention at scale on PostgreSQL: the raw-events policy on 10,000,000 events (a year of them by
default; keeping 3 months removes about three quarters), whether it blocks the writes that sending and
tracking make meanwhile, and whether the roll-ups and the reports read from them are the same figures
after it as before.

Each run gets the nightly task's time budget (`Q_TIMEOUT` less its margin) unless --time-budget says
otherwise; a run stopped by it is followed by the next one at once here, as the next night would.

A probe on another connection loops over the two small writes that tracking and sending do while the
run works: an event INSERT and a contact UPDATE (the run stamps contacts whose events it removes), each
committed alone. Its latencies are measured before the run, during it, and after it; the baseline is
the same loop with nothing else running.

    python -m bench retention --events 1000000 --contacts 100000
"""

import argparse
import os
import random
import statistics
import threading
import time

from bench.analytics_rollups import generate


class Probe(threading.Thread):
    """Small writes, one after the other, on their own connection: latency (ms) per phase."""

    def __init__(self, url: str, low: int, high: int):
        super().__init__(daemon=True)
        import psycopg

        self.connection = psycopg.connect(url.replace("postgres://", "postgresql://"), autocommit=True)
        self.low, self.high = low, high
        self.phase = "before"
        self.latencies: dict[str, list[float]] = {}
        self.stopped = threading.Event()

    def run(self):
        rng = random.Random(7)
        while not self.stopped.is_set():
            contact = rng.randint(self.low, self.high)
            started = time.perf_counter()
            self.connection.execute(
                "INSERT INTO crm_engagementevent (contact_id, kind, occurred_at, channel, source_kind, source_id, "
                "detail) VALUES (%s, 'opened', now(), 'email', 'bench_probe', '', '{}'::jsonb)", [contact])
            self.connection.execute("UPDATE crm_contact SET updated_at = now() WHERE id = %s", [contact])
            self.latencies.setdefault(self.phase, []).append((time.perf_counter() - started) * 1000)
            time.sleep(0.01)
        self.connection.close()

    def summary(self, phase: str) -> str:
        values = sorted(self.latencies.get(phase, []))
        if len(values) < 20:
            return f"{phase}: {len(values)} writes (too few for a p99)"
        p99 = statistics.quantiles(values, n=100)[98]
        return (f"{phase}: {len(values):,} writes, p50 {statistics.median(values):.1f} ms, p99 {p99:.1f} ms, "
                f"max {values[-1]:.0f} ms")


def cursor_of(connection):
    return connection.cursor()


def _count(cursor, sql: str, params=()) -> int:
    with cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()[0]


def _figures(days: int) -> dict:
    """The roll-ups (a digest of every row, in key order) and the reports read from them over the whole
    year, uncached: what retention must leave as they were. Both end yesterday: the probe's own events
    of today are folded by the run's first step, and are no figure retention could change."""
    import datetime as dt

    from django.db import connection
    from django.test.utils import override_settings
    from django.utils import timezone

    from analytics.reports import channel_ranking, overview, trend

    columns = ("campaign_id, channel, day, sent, emails_sent, delivered, opens, clicks, replies, bounces, "
               "unsubscribes, complaints, page_views, form_submits, conversions, revenue")
    end = timezone.localdate() - dt.timedelta(days=1)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*), md5(string_agg(concat_ws(',', {columns}), ';' ORDER BY campaign_id, "
                       f"channel, day)) FROM analytics_campaignchannelday WHERE day <= %s", [end])
        rows, digest = cursor.fetchone()
    start = end - dt.timedelta(days=days)
    with override_settings(ANALYTICS_REPORT_CACHE_SECONDS=0):
        reports = {
            # The roll-up's lag says when it was last folded, which is not a figure.
            "overview": {k: v for k, v in overview(start=start, end=end).items() if k != "rollup_lag"},
            "trend": trend(metric="opens", interval="week", start=start, end=end),
            "ranking": channel_ranking(metric="click_through_rate", start=start, end=end, minimum_sample=1),
        }
    return {"roll-up rows": rows, "roll-up digest": digest, "reports": reports}


def _check_after(connection, figures_before: dict, args, *, counted: int, removed: int, events_before: int,
                 probe) -> None:
    import datetime as dt

    from django.utils import timezone

    from aicmo_site.retention import months_before

    after = _figures(args.days)
    same = {name: after[name] == value for name, value in figures_before.items()}
    print(f"roll-ups before / after: {figures_before['roll-up rows']:,} rows, digest "
          f"{figures_before['roll-up digest']} / {after['roll-up rows']:,} rows, digest {after['roll-up digest']}")
    print("identical after retention: " + ", ".join(f"{name} {'yes' if ok else 'NO'}" for name, ok in same.items()))
    first_kept = months_before(timezone.localdate(), args.keep_months)
    start = dt.datetime.combine(first_kept, dt.time(), tzinfo=timezone.get_current_timezone())
    older = _count(connection.cursor(), "SELECT count(*) FROM crm_engagementevent WHERE occurred_at < %s "
                   "AND kind <> 'converted'", [start])
    left = _count(connection.cursor(), "SELECT count(*) FROM crm_engagementevent WHERE source_kind <> 'bench_probe'")
    print(f"removed {removed:,} (the dry run said {counted:,}); events before {events_before:,}, after {left:,} "
          f"(+{len(sum(probe.latencies.values(), [])):,} the probe wrote); left older than {first_kept} "
          f"(conversions apart): {older:,}")


def main(argv):
    parser = argparse.ArgumentParser(prog="bench retention")
    parser.add_argument("--contacts", type=int, default=1_000_000)
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--campaigns", type=int, default=500)
    parser.add_argument("--days", type=int, default=365, help="the events are spread over this many days")
    parser.add_argument("--keep-months", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=5000)
    parser.add_argument("--probe-seconds", type=float, default=20, help="length of the before and after phases")
    parser.add_argument("--database", default="aicmo_bench_retention")
    parser.add_argument("--time-budget", type=float, default=None,
                        help="seconds each run gets (default: the nightly task's, Q_TIMEOUT less a margin); "
                             "the next run then goes on with what it left")
    args = parser.parse_args(argv)

    from bench.conditions import bench_database, describe

    admin, url, _ = bench_database(args.database)
    from django.db import connection

    from aicmo_site.models import RetentionKind
    from aicmo_site.retention import CONTINUES, nightly_time_budget, retention_apply, retention_policy_update
    from analytics.services import rollup_fold
    from publishing.models import Campaign

    probe = None
    try:
        started = time.perf_counter()
        Campaign.objects.bulk_create([Campaign(name=f"Bench campaign {n}") for n in range(args.campaigns)])
        first_campaign = Campaign.objects.order_by("id").values_list("id", flat=True).first()
        with connection.cursor() as cursor:
            generate(cursor, contacts=args.contacts, events=args.events, first_campaign=first_campaign,
                     campaigns=args.campaigns, days=args.days)
            cursor.execute("SELECT min(id), max(id) FROM crm_contact")
            low, high = cursor.fetchone()
        print(f"generated data in {time.perf_counter() - started:.1f}s")
        print(describe(contacts=args.contacts, events=args.events, campaigns=args.campaigns, days=args.days))
        started = time.perf_counter()
        rollup_fold()
        print(f"first fold of every event (what the hourly fold has done before a nightly run): "
              f"{time.perf_counter() - started:.1f}s")
        figures_before = _figures(args.days)
        events_before = _count(cursor_of(connection), "SELECT count(*) FROM crm_engagementevent")
        retention_policy_update(kind=RetentionKind.ENGAGEMENT_EVENTS, enabled=True, keep_for=args.keep_months)
        started = time.perf_counter()
        counted = retention_apply(dry_run=True)[RetentionKind.ENGAGEMENT_EVENTS]
        print(f"dry run: {counted:,} events would go, counted in {time.perf_counter() - started:.1f}s")

        probe = Probe(url, low, high)
        probe.start()
        time.sleep(args.probe_seconds)
        probe.phase = "during"
        load_before = os.getloadavg()
        started = time.perf_counter()
        removed, runs = 0, 0
        budget = nightly_time_budget() if args.time_budget is None else args.time_budget
        print(f"each run's time budget: {budget:.0f}s")
        while True:  # a run stopped by its time budget is followed by the next night's, at once here
            runs += 1
            began = time.perf_counter()
            result = retention_apply(batch_size=args.batch_size, time_budget=budget)
            removed += result.get(RetentionKind.ENGAGEMENT_EVENTS, 0)
            print(f"run {runs}: {result.get(RetentionKind.ENGAGEMENT_EVENTS, 0):,} events removed in "
                  f"{time.perf_counter() - began:.1f}s" + (", stopped at its time budget: continues next run"
                                                           if result.get(CONTINUES) else ""))
            if not result.get(CONTINUES):
                break
        took = time.perf_counter() - started
        probe.phase = "after"
        print(f"all runs: {removed:,} events removed in {took:.1f}s ({removed / took:,.0f} events/s, batches of "
              f"{args.batch_size:,}) | load average before {load_before[0]:.1f}, at the end "
              f"{os.getloadavg()[0]:.1f}")
        time.sleep(args.probe_seconds)
        probe.stopped.set()
        probe.join(timeout=30)
        print("writes on another connection (event INSERT + contact UPDATE, each committed):")
        for phase in ("before", "during", "after"):
            print("  " + probe.summary(phase))
        _check_after(connection, figures_before, args, counted=counted, removed=removed,
                     events_before=events_before, probe=probe)
    finally:
        if probe is not None and probe.is_alive():
            probe.stopped.set()
            probe.join(timeout=30)
        connection.close()
        admin.execute(f'DROP DATABASE IF EXISTS "{args.database}" WITH (FORCE)')
    return 0
