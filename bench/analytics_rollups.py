"""Analytics at scale on PostgreSQL: full roll-up rebuild, folding new events, scoring every
contact, and the dashboard API's latency under concurrent clients.

Defaults follow the issue (10,000,000 events, 1,000,000 contacts, 500 campaigns); pass smaller
--events/--contacts to run it quickly. Baseline, measured in the same run: the bare GROUP BY the
rebuild performs, written by hand into an unlogged table (what the database alone costs).

    python -m bench analytics_rollups --events 1000000 --contacts 100000
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


def generate(cursor, *, contacts: int, events: int, first_campaign: int, campaigns: int) -> None:
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
    cursor.execute(_fill_sql("crm_engagementevent", columns("crm_engagementevent"), {
        "contact_id": f"{low} + (i::bigint * 7919) % ({high - low + 1})",
        # Kind, day and channel each step with a different divisor of i, so that every campaign has
        # every kind on every channel and day (plain i % n for all of them ties them together: 4 and
        # 10 divide 500, and the roll-up then holds a few thousand rows instead of campaigns × 4 × 180).
        "kind": f"{kinds}[1 + ((i / 7) % 10)]",
        "occurred_at": "now() - (((i / 3) % 180) || ' days')::interval - ((i % 86400) || ' seconds')::interval",
        "campaign_id": f"{first_campaign} + (i % {campaigns})",
        "channel": f"(ARRAY['email','x','linkedin','devto'])[1 + ((i / {campaigns}) % 4)]",
        "value": "CASE WHEN (i / 7) % 10 = 7 THEN (i % 200)::numeric ELSE NULL END",
    }, f"generate_series(1, {events}) AS i"))
    cursor.execute("ANALYZE crm_contact; ANALYZE crm_engagementevent")


def dashboard_p95(base_url: str, token: str, clients: int, requests_each: int, campaign_id: int):
    latencies: list[float] = []
    lock = threading.Lock()
    urls = ["/api/analytics/overview/", "/api/analytics/channels/?metric=clicks",
            "/api/analytics/trends/?metric=opens&interval=week", f"/api/analytics/campaigns/{campaign_id}/"]

    def client(n):
        for k in range(requests_each):
            request = urllib.request.Request(base_url + urls[(n + k) % len(urls)],
                                             headers={"Authorization": f"Token {token}"})
            started = time.perf_counter()
            with urllib.request.urlopen(request, timeout=60) as response:
                response.read()
            with lock:
                latencies.append(time.perf_counter() - started)

    errors: list[str] = []

    def guarded(n):
        try:
            client(n)
        except Exception as exc:  # noqa: BLE001 - reported below, the figures would be wrong
            errors.append(repr(exc))

    threads = [threading.Thread(target=guarded, args=(n,)) for n in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise RuntimeError(f"{len(errors)} dashboard clients failed, first: {errors[0]}")
    latencies.sort()
    return statistics.quantiles(latencies, n=20)[18] * 1000, statistics.median(latencies) * 1000


def _start_server(port: int, url: str, extra_env: dict):
    from cryptography.fernet import Fernet

    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "aicmo_site.wsgi", "-w", "4", "-b", f"127.0.0.1:{port}",
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
    parser.add_argument("--database", default="aicmo_bench_analytics")
    args = parser.parse_args(argv)

    import psycopg

    admin = psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True)
    admin.execute(f'DROP DATABASE IF EXISTS "{args.database}"')
    admin.execute(f'CREATE DATABASE "{args.database}"')
    url = f"postgres://postgres@127.0.0.1:5432/{args.database}"
    os.environ["DATABASE_URL"] = url
    from bench.conditions import describe, setup_django

    setup_django()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    from publishing.models import Campaign

    Campaign.objects.bulk_create([Campaign(name=f"Bench campaign {n}") for n in range(args.campaigns)])
    first_campaign = Campaign.objects.order_by("id").values_list("id", flat=True).first()
    started = time.perf_counter()
    with connection.cursor() as cursor:
        generate(cursor, contacts=args.contacts, events=args.events, first_campaign=first_campaign,
                 campaigns=args.campaigns)
    print(describe(contacts=args.contacts, events=args.events, campaigns=args.campaigns))
    print(f"generated data in {time.perf_counter() - started:.1f}s")

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
            "'email', '', '', '{}'::jsonb FROM generate_series(1, %s) AS i")
        cursor.execute(generate_new, [args.contacts, first_campaign, args.campaigns, args.new_events])
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

    user = get_user_model().objects.create_user("bench", password="bench-password-1", is_superuser=True)
    token = AuthToken.objects.create(user=user)[1]
    port = 8799
    server = None
    try:
        # Uncached: every request recomputes; cached: reports read what the last fold left cached.
        for label, extra_env in (("uncached", {"ANALYTICS_REPORT_CACHE_SECONDS": "0"}), ("cached", {})):
            if server is not None:
                server.terminate()
                server.wait(timeout=30)
            server = _start_server(port, url, extra_env)
            dashboard_p95(f"http://127.0.0.1:{port}", token, 2, 2, first_campaign)  # warm up
            p95, p50 = dashboard_p95(f"http://127.0.0.1:{port}", token, args.clients, 25, first_campaign + 7)
            print(f"dashboard API under {args.clients} clients, {label}: p50 {p50:.0f} ms, p95 {p95:.0f} ms "
                  f"(goal p95 < 100 ms)")
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
    connection.close()
    admin.execute(f'DROP DATABASE IF EXISTS "{args.database}" WITH (FORCE)')
    return 0
