"""Analytics at scale on PostgreSQL: full roll-up rebuild, folding new events, scoring every
contact, and the dashboard API's latency under concurrent clients.

Defaults follow the issue (10,000,000 events, 1,000,000 contacts, 500 campaigns); pass smaller
--events/--contacts to run it quickly. Baseline, measured in the same run: the bare GROUP BY the
rebuild performs, written by hand into an unlogged table (what the database alone costs).

    python -m bench analytics_rollups --events 1000000 --contacts 100000

Generating the full sizes takes minutes: --keep leaves the database in place and --reuse runs on
it again (the previous run's new events, roll-ups and scores are cleared first, so every figure
is measured from the same starting point, first scoring run included).
"""

import argparse
import os
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _fill_sql(table: str, columns: list[tuple[str, str, bool]], given: dict[str, str], series: str) -> str:
    """INSERT ... SELECT over generate_series giving every NOT NULL column a value of its type."""
    names, values = [], []
    for name, data_type, nullable in columns:
        if name == "id":
            continue
        if name in given:
            names.append(name)
            values.append(given[name])
        elif not nullable:
            names.append(name)
            values.append({"jsonb": "'{}'::jsonb", "boolean": "false", "integer": "0", "smallint": "0",
                           "bigint": "0", "numeric": "0", "timestamp with time zone": "now()",
                           "date": "current_date"}.get(data_type, "''"))
    return f"INSERT INTO {table} ({', '.join(names)}) SELECT {', '.join(values)} FROM {series}"


def generate(cursor, *, contacts: int, events: int, first_campaign: int, campaigns: int, days: int = 180) -> None:
    def columns(table):
        cursor.execute("SELECT column_name, data_type, is_nullable = 'YES' FROM information_schema.columns "
                       "WHERE table_name = %s", [table])
        return cursor.fetchall()

    cursor.execute(_fill_sql("crm_contact", columns("crm_contact"), {
        "email": "'c' || i || '@bench' || (i % 5000) || '.example'", "domain": "'bench' || (i % 5000) || '.example'",
        "lifecycle_status": "'new'", "email_status": "'unknown'", "consent_status": "'subscribed'",
        "engagement_tier": "'inactive'", "created_at": "now() - ((i % 365) || ' days')::interval",
        "updated_at": "now()", "source": "'bench'",
    }, f"generate_series(1, {contacts}) AS i"))
    cursor.execute("SELECT min(id), max(id) FROM crm_contact")
    low, high = cursor.fetchone()
    kinds = ("(ARRAY['sent','delivered','opened','clicked','opened','sent','delivered','converted','replied',"
             "'page_view'])")
    # Ten million inserts into six secondary indexes in random key order take many times longer than
    # building the indexes afterwards from sorted runs: they are dropped and made again (those that
    # back no constraint; the definitions are the migrations' own).
    cursor.execute("SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.tablename = 'crm_engagementevent' "
                   "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexname::regclass)")
    indexes = cursor.fetchall()
    for name, _ in indexes:
        cursor.execute(f'DROP INDEX "{name}"')
    # Nor is each event's contact looked up by the foreign key's trigger: contact_id is built inside
    # the id range just filled, one contact per id.
    cursor.execute("SET session_replication_role = replica")
    cursor.execute(_fill_sql("crm_engagementevent", columns("crm_engagementevent"), {
        "contact_id": f"{low} + (i::bigint * 7919) % ({high - low + 1})",
        # Kind, day and channel each step with a different divisor of i, so that every campaign has
        # every kind on every channel and day (plain i % n for all of them ties them together: 4 and
        # 10 divide 500, and the roll-up then holds a few thousand rows instead of campaigns × 4 × days).
        "kind": f"{kinds}[1 + ((i / 7) % 10)]",
        "occurred_at": f"now() - (((i / 3) % {days}) || ' days')::interval - ((i % 86400) || ' seconds')::interval",
        "campaign_id": f"{first_campaign} + (i % {campaigns})",
        "channel": f"(ARRAY['email','x','linkedin','devto'])[1 + ((i / {campaigns}) % 4)]",
        "value": "CASE WHEN (i / 7) % 10 = 7 THEN (i % 200)::numeric ELSE NULL END",
    }, f"generate_series(1, {events}) AS i"))
    cursor.execute("RESET session_replication_role")
    cursor.execute("SET maintenance_work_mem = '512MB'")
    for _, definition in indexes:
        cursor.execute(definition)
    cursor.execute("RESET maintenance_work_mem")
    # Freshly bulk-loaded rows are not yet all-visible: the first reader would set hint bits on
    # every page and be measured for it.
    cursor.execute("VACUUM ANALYZE crm_contact")
    cursor.execute("VACUUM ANALYZE crm_engagementevent")


NEW_EVENTS_SOURCE = "bench_new"


def reset(cursor) -> None:
    """Back to the generated data: no new events, roll-ups, scores or baseline from a previous run."""
    cursor.execute("DELETE FROM crm_engagementevent WHERE source_kind = %s", [NEW_EVENTS_SOURCE])
    cursor.execute("DROP TABLE IF EXISTS bench_baseline")
    cursor.execute("TRUNCATE analytics_campaignchannelday, analytics_contactscore, analytics_contactscorehistory, "
                   "analytics_foldcheckpoint")
    cursor.execute("UPDATE crm_contact SET engagement_score = 0, engagement_tier = 'inactive' "
                   "WHERE engagement_score <> 0 OR engagement_tier <> 'inactive'")
    # Rewritten in id order at the table's fillfactor, as generated: the UPDATE above moved most
    # rows to other pages, and the first scoring run would otherwise start from a looser table.
    cursor.execute("CLUSTER crm_contact USING crm_contact_pkey")
    cursor.execute("VACUUM ANALYZE crm_contact")
    cursor.execute("VACUUM ANALYZE crm_engagementevent")


SCORES_URLS = ("/api/analytics/scores/", "/api/analytics/scores/?tier=medium", "/api/analytics/scores/?page=50")
DASHBOARD_URLS = ("/api/analytics/overview/", "/api/analytics/channels/?metric=clicks",
                  "/api/analytics/trends/?metric=opens&interval=week", "/api/analytics/campaigns/{campaign}/")


def _get(base_url: str, path: str, token: str) -> float:
    request = urllib.request.Request(base_url + path, headers={"Authorization": f"Token {token}"})
    started = time.perf_counter()
    with urllib.request.urlopen(request, timeout=60) as response:
        response.read()
    return time.perf_counter() - started


def p95_under_load(base_url: str, token: str, clients: int, requests_each: int, paths: list[str]):
    """Each client asks the paths in turn, one request after the other: (p95, p50) in ms."""
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()

    def client(n):
        try:
            for k in range(requests_each):
                took = _get(base_url, paths[(n + k) % len(paths)], token)
                with lock:
                    latencies.append(took)
        except Exception as exc:  # noqa: BLE001 - reported below, the figures would be wrong
            errors.append(repr(exc))

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise RuntimeError(f"{len(errors)} dashboard clients failed, first: {errors[0]}")
    latencies.sort()
    return statistics.quantiles(latencies, n=20)[18] * 1000, statistics.median(latencies) * 1000


def _start_server(port: int, url: str, workers: int, extra_env: dict):
    from cryptography.fernet import Fernet

    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "aicmo_site.wsgi", "-w", str(workers), "-b", f"127.0.0.1:{port}",
         "--log-level", "warning"],
        cwd=ROOT, env={**os.environ, "DATABASE_URL": url, "DEBUG": "0", "SECRET_KEY": "bench-" + "x" * 50,
                       "ALLOWED_HOSTS": "127.0.0.1", "API_THROTTLE_USER": "1000000/minute",
                       "FIELD_ENCRYPTION_KEY": Fernet.generate_key().decode(),
                       "DJANGO_SETTINGS_MODULE": "aicmo_site.settings.base", **extra_env},
    )
    for _ in range(100):
        if server.poll() is not None:
            raise RuntimeError("gunicorn stopped at start-up; run it by hand to see why")
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2)
            return server
        except OSError:
            time.sleep(0.2)
    server.terminate()
    raise RuntimeError("gunicorn did not answer /healthz in 20 s")


def main(argv):
    parser = argparse.ArgumentParser(prog="bench analytics_rollups")
    parser.add_argument("--contacts", type=int, default=1_000_000)
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--campaigns", type=int, default=500)
    parser.add_argument("--new-events", type=int, default=100_000)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2 * (os.cpu_count() or 1) + 1,
                        help="gunicorn workers (default: gunicorn's advice, 2 per core + 1)")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/9",
                        help="the web processes' shared cache, as in a deployment of several of them ('': "
                             "none, each process caches for itself)")
    parser.add_argument("--database", default="aicmo_bench_analytics")
    parser.add_argument("--keep", action="store_true", help="leave the database for a later --reuse")
    parser.add_argument("--reuse", action="store_true",
                        help="run on the database a --keep run left (its sizes win over the arguments)")
    args = parser.parse_args(argv)

    from bench.conditions import bench_database, describe

    if args.redis:
        # This process folds as a deployment's worker does: into the cache the web processes share (each fold
        # puts its checkpoint there). It starts no background task, so the Redis broker goes unused.
        os.environ["REDIS_URL"] = args.redis
    admin, url, reusing = bench_database(args.database, reuse=args.reuse)
    from django.db import connection

    from publishing.models import Campaign

    started = time.perf_counter()
    if reusing:
        with connection.cursor() as cursor:
            reset(cursor)
            cursor.execute("SELECT count(*) FROM crm_contact")
            args.contacts = cursor.fetchone()[0]
            cursor.execute("SELECT count(*) FROM crm_engagementevent")
            args.events = cursor.fetchone()[0]
        args.campaigns = Campaign.objects.count()
        print(f"reused {args.database}, reset in {time.perf_counter() - started:.1f}s")
    else:
        Campaign.objects.bulk_create([Campaign(name=f"Bench campaign {n}") for n in range(args.campaigns)])
    first_campaign = Campaign.objects.order_by("id").values_list("id", flat=True).first()
    if not reusing:
        with connection.cursor() as cursor:
            generate(cursor, contacts=args.contacts, events=args.events, first_campaign=first_campaign,
                     campaigns=args.campaigns)
        print(f"generated data in {time.perf_counter() - started:.1f}s")
    print(describe(contacts=args.contacts, events=args.events, campaigns=args.campaigns))
    print(f"load average before: {' '.join(f'{n:.2f}' for n in os.getloadavg())}")

    from analytics.services import contacts_score, rollup_fold, rollup_rebuild

    with connection.cursor() as cursor:
        started = time.perf_counter()
        cursor.execute(
            "CREATE UNLOGGED TABLE bench_baseline AS SELECT coalesce(campaign_id, 0) c, channel, "
            "(occurred_at AT TIME ZONE 'UTC')::date d, kind, count(*) n, sum(value) v "
            "FROM crm_engagementevent GROUP BY 1, 2, 3, 4")
        baseline = time.perf_counter() - started

    started = time.perf_counter()
    rollup_rebuild()
    rebuild = time.perf_counter() - started
    print(f"full rebuild: {rebuild:.1f}s (goal < 60 s) | baseline hand-written GROUP BY: {baseline:.1f}s "
          f"| ratio {rebuild / baseline:.2f}")

    with connection.cursor() as cursor:
        generate_new = (
            "INSERT INTO crm_engagementevent (contact_id, kind, occurred_at, campaign_id, channel, source_kind, "
            "source_id, detail) SELECT (SELECT min(id) FROM crm_contact) + i %% %s, 'clicked', now(), %s + i %% %s, "
            "'email', %s, '', '{}'::jsonb FROM generate_series(1, %s) AS i")
        cursor.execute(generate_new, [args.contacts, first_campaign, args.campaigns, NEW_EVENTS_SOURCE,
                                      args.new_events])
    started = time.perf_counter()
    result = rollup_fold()
    fold = time.perf_counter() - started
    print(f"fold {result['events_folded']:,} new events: {fold:.2f}s (goal < 2 s)")

    started = time.perf_counter()
    scored = contacts_score()
    print(f"scoring {scored['contacts_scored']:,} contacts: {time.perf_counter() - started:.1f}s (goal < 30 s; "
          f"first run: every scored contact is written into crm too)")
    started = time.perf_counter()
    rescored = contacts_score()
    print(f"re-scoring {rescored['contacts_scored']:,} contacts ({rescored['scores_changed']:,} changed): "
          f"{time.perf_counter() - started:.1f}s (the hourly schedule's steady state)")

    from django.contrib.auth import get_user_model
    from knox.models import AuthToken

    user = (get_user_model().objects.filter(username="bench").first()
            or get_user_model().objects.create_user("bench", password="bench-password-1", is_superuser=True))
    token = AuthToken.objects.create(user=user)[1]
    port = 8799
    server = None
    base = f"http://127.0.0.1:{port}"
    paths = [p.format(campaign=first_campaign + 7) for p in DASHBOARD_URLS]
    print(f"web: gunicorn, {args.workers} workers, cache: {args.redis or 'per process'}")
    try:
        # Uncached: every request recomputes. Cached: the first request after a fold computes and
        # caches (timed apart, one by one), every later one reads the cache, as between two folds.
        for label, extra_env in (("uncached", {"ANALYTICS_REPORT_CACHE_SECONDS": "0", "REDIS_URL": ""}),
                                 ("cached", {"REDIS_URL": args.redis} if args.redis else {})):
            if server is not None:
                server.terminate()
                server.wait(timeout=30)
            server = _start_server(port, url, args.workers, extra_env)
            p95_under_load(base, token, args.workers, 2, ["/healthz"])  # every worker up and connected
            if label == "cached":
                rollup_fold()  # a new checkpoint: nothing from an earlier run is in the cache
                firsts = ", ".join(f"{p.split('?')[0]} {_get(base, p, token) * 1000:.0f} ms" for p in paths)
                print(f"first request after a fold (computes and caches): {firsts}")
            floor, _ = p95_under_load(base, token, args.clients, 25, ["/healthz"])
            p95, p50 = p95_under_load(base, token, args.clients, 25, paths)
            goal = 100 if label == "uncached" else 20
            print(f"dashboard API under {args.clients} clients, {label}: p50 {p50:.0f} ms, p95 {p95:.0f} ms "
                  f"(goal p95 < {goal} ms) | baseline /healthz (one query) p95 {floor:.0f} ms | ratio {p95 / floor:.1f}"
                  f" | load average {os.getloadavg()[0]:.2f}")
            for path in paths:  # each page alone, its /healthz baseline measured just before it
                floor, _ = p95_under_load(base, token, args.clients, 10, ["/healthz"])
                p95, p50 = p95_under_load(base, token, args.clients, 10, [path])
                print(f"  {path.split('?')[0]} {label}: p50 {p50:.0f} ms, p95 {p95:.0f} ms (goal p95 < {goal} ms) "
                      f"| /healthz p95 {floor:.0f} ms | ratio {p95 / floor:.1f} "
                      f"| load average {os.getloadavg()[0]:.2f}")
            if label == "uncached":  # read from analytics' own scores table, never cached
                p95, p50 = p95_under_load(base, token, args.clients, 25, list(SCORES_URLS))
                print(f"scores API (top contacts, a tier, page 50) under {args.clients} clients: p50 {p50:.0f} ms, "
                      f"p95 {p95:.0f} ms | ratio to /healthz {p95 / floor:.1f}")
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
    print(f"load average after: {' '.join(f'{n:.2f}' for n in os.getloadavg())}")
    connection.close()
    if not args.keep:
        admin.execute(f'DROP DATABASE IF EXISTS "{args.database}" WITH (FORCE)')
    return 0
