"""Email tracking endpoints under load: the open pixel (/t/o/<token>) and the click redirect
(/t/c/<token>) served by gunicorn with the production settings on loopback, on PostgreSQL, hit by
concurrent clients with real signed tokens of real deliveries (each request a random delivery).

Prints requests per second and p50/p99 latency of each, and the baseline measured in the same run:
the same gunicorn answering /healthz (one database query and the broker check, no token, no write),
with the ratio. Each hit is one appended row, folded in the background in production; here the fold
runs after the load (timed, hits/s printed), then every open and click must be on its delivery.

The load generator is asyncio in this process (one connection per request: gunicorn's sync workers
close each one), so it shares the machine's cores with gunicorn and PostgreSQL: compare ratios.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/aicmo_bench python -m bench email_tracking
"""

import argparse
import asyncio
import os
import random
import secrets
import shutil
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parent.parent
# The production settings refuse to start without these; the bench sets its own for the run.
SECRET_KEY = "bench-email-tracking-" + secrets.token_hex(24)
PRODUCTION_ENV = {
    "DJANGO_SETTINGS_MODULE": "aicmo_site.settings.production", "SECRET_KEY": SECRET_KEY,
    "ALLOWED_HOSTS": "127.0.0.1", "FIELD_ENCRYPTION_KEY": Fernet.generate_key().decode(), "LOG_LEVEL": "WARNING",
}
# Requests arrive as from the TLS-terminating proxy in front of production (SECURE_PROXY_SSL_HEADER).
HEADERS = "Host: 127.0.0.1\r\nX-Forwarded-Proto: https\r\nConnection: close\r\n"


def make_deliveries(count: int) -> tuple[list[int], list[int]]:
    from crm.models import Contact
    from publishing.email.choices import DeliveryStatus, SendStatus
    from publishing.email.models import EmailCampaign, EmailDelivery, EmailLink, EmailTemplate
    from publishing.models import Campaign

    run = time.strftime("%Y%m%d%H%M%S")
    Contact.objects.bulk_create([Contact(email=f"t{run}-{n}@bench.example", domain="bench.example")
                                 for n in range(count)], batch_size=5000)
    contact_ids = Contact.objects.filter(email__startswith=f"t{run}-").values_list("pk", flat=True)
    template = EmailTemplate.objects.create(name=f"Tracking {run}", subject="News", html_body="<p>News</p>")
    campaign = Campaign.objects.create(name=f"Tracking {run}")
    EmailCampaign.objects.create(campaign=campaign, template=template, from_email="news@bench.example",
                                 status=SendStatus.COMPLETED)
    links = EmailLink.objects.bulk_create([EmailLink(campaign=campaign, url=f"https://example.org/{n}",
                                                     url_hash=f"{n:064x}") for n in range(2)])
    EmailDelivery.objects.bulk_create([EmailDelivery(campaign=campaign, contact_id=i, status=DeliveryStatus.SENT,
                                                     message_id=f"<{i}.{run}@bench.example>")
                                       for i in contact_ids], batch_size=5000)
    delivery_ids = list(EmailDelivery.objects.filter(campaign=campaign).values_list("pk", flat=True))
    return delivery_ids, [link.pk for link in links]


def start_gunicorn(port: int, workers: int) -> subprocess.Popen:
    gunicorn = shutil.which("gunicorn", path=str(Path(sys.executable).parent)) or "gunicorn"
    server = subprocess.Popen([gunicorn, "aicmo_site.wsgi", "-w", str(workers), "-b", f"127.0.0.1:{port}",
                               "--log-level", "warning"], cwd=ROOT, env={**os.environ, **PRODUCTION_ENV})
    deadline = time.monotonic() + 180  # four workers importing Django on a loaded machine
    while time.monotonic() < deadline:
        try:
            request = urllib.request.Request(f"http://127.0.0.1:{port}/healthz",
                                             headers={"X-Forwarded-Proto": "https"})
            with urllib.request.urlopen(request, timeout=2) as response:  # noqa: S310 - loopback
                if response.status == 200:
                    return server
        except OSError:
            time.sleep(0.2)
    server.kill()
    raise RuntimeError(f"gunicorn did not answer /healthz on 127.0.0.1:{port}")


async def _get(port: int, path: str) -> tuple[int, float]:
    started = time.perf_counter()
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(f"GET {path} HTTP/1.1\r\n{HEADERS}\r\n".encode())
    await writer.drain()
    status_line = await reader.readline()
    await reader.read()  # to the end: the server closes the connection after the response
    writer.close()
    return int(status_line.split()[1]), time.perf_counter() - started


async def _load(port: int, paths, clients: int, seconds: float) -> tuple[list[float], dict[int, int], float]:
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    deadline = time.perf_counter() + seconds

    async def client():
        while time.perf_counter() < deadline:
            status, latency = await _get(port, paths())
            latencies.append(latency)
            statuses[status] = statuses.get(status, 0) + 1

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    return latencies, statuses, time.perf_counter() - started


def measure(port: int, paths, clients: int, seconds: float) -> dict:
    latencies, statuses, elapsed = asyncio.run(_load(port, paths, clients, seconds))
    return {"latencies": latencies, "statuses": statuses, "count": len(latencies), "elapsed": elapsed}


def merged(rounds: list[dict]) -> dict:
    latencies = [latency for figures in rounds for latency in figures["latencies"]]
    cuts = statistics.quantiles(latencies, n=100)
    statuses: dict[int, int] = {}
    for figures in rounds:
        for status, count in figures["statuses"].items():
            statuses[status] = statuses.get(status, 0) + count
    return {"rate": len(latencies) / sum(figures["elapsed"] for figures in rounds), "p50": cuts[49] * 1000,
            "p99": cuts[98] * 1000, "statuses": statuses, "count": len(latencies),
            "round_rates": [figures["count"] / figures["elapsed"] for figures in rounds]}


def main(argv):
    parser = argparse.ArgumentParser(prog="bench email_tracking", description=__doc__)
    parser.add_argument("--deliveries", type=int, default=20_000)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=15, help="per endpoint, over all rounds")
    parser.add_argument("--rounds", type=int, default=3, help="baseline, opens and clicks measured in turn")
    parser.add_argument("--gunicorn-workers", type=int, default=4, help="as in the README's production example")
    args = parser.parse_args(argv)
    os.environ["SECRET_KEY"] = SECRET_KEY  # tokens made here must verify in gunicorn
    os.environ.setdefault("LOG_LEVEL", "WARNING")

    from bench.conditions import describe, setup_django

    setup_django()
    from django.core.management import call_command
    from django.db import connection
    from django.db.models import Sum

    from gateways.testing.ports import free_port
    from publishing.email.models import EmailDelivery, TrackingHit
    from publishing.email.services.tracking import fold_tracking_hits
    from publishing.email.tokens import make_token

    if connection.vendor != "postgresql":
        print("note: the issue asks for PostgreSQL; set DATABASE_URL=postgres://…", file=sys.stderr)
    call_command("migrate", verbosity=0)
    delivery_ids, link_ids = make_deliveries(args.deliveries)
    opens = [f"/t/o/{make_token('open', pk)}" for pk in delivery_ids]
    clicks = [f"/t/c/{make_token('click', pk, random.choice(link_ids))}" for pk in delivery_ids]
    connection.close()  # nothing of the parent's stays open while gunicorn's workers run

    port = free_port()
    server = start_gunicorn(port, args.gunicorn_workers)
    load_start = os.getloadavg()
    endpoints = {"baseline /healthz": lambda: "/healthz", "open pixel /t/o/": lambda: random.choice(opens),
                 "click redirect /t/c/": lambda: random.choice(clicks)}
    rounds: dict[str, list[dict]] = {name: [] for name in endpoints}
    try:
        # Interleaved: the machine's load changes by the minute, so each round measures all three in turn.
        for _ in range(args.rounds):
            for name, paths in endpoints.items():
                rounds[name].append(measure(port, paths, args.clients, args.seconds / args.rounds))
    finally:
        server.terminate()
        server.wait(timeout=30)
    load_end = os.getloadavg()
    baseline, opened, clicked = (merged(rounds[name]) for name in endpoints)

    waiting = TrackingHit.objects.count()
    fold_started = time.perf_counter()
    folded = fold_tracking_hits()
    fold_seconds = time.perf_counter() - fold_started
    recorded = EmailDelivery.objects.filter(pk__in=delivery_ids).aggregate(opens=Sum("open_count"),
                                                                           clicks=Sum("click_count"))
    print(describe(deliveries=args.deliveries, clients=args.clients, seconds=args.seconds, rounds=args.rounds,
                   server=f"gunicorn -w {args.gunicorn_workers} (sync), production settings",
                   settings_changed="none"))
    print(f"load average at start {load_start[0]:.2f}, at end {load_end[0]:.2f}")
    for name, figures in (("baseline /healthz", baseline), ("open pixel /t/o/", opened),
                          ("click redirect /t/c/", clicked)):
        ratio = "" if figures is baseline else (
            f" | ratio to baseline {figures['rate'] / baseline['rate']:.2f} (by round "
            + ", ".join(f"{rate / base:.2f}" for rate, base in zip(figures["round_rates"], baseline["round_rates"],
                                                                 strict=True)) + ")")
        print(f"{name}: {figures['rate']:,.0f} req/s, p50 {figures['p50']:.1f} ms, p99 {figures['p99']:.1f} ms, "
              f"answers {figures['statuses']}{ratio}")
    print(f"fold: {folded:,} of {waiting:,} waiting hits in {fold_seconds:.1f} s "
          f"({folded / max(fold_seconds, 1e-9):,.0f} hits/s)")
    print(f"recorded on deliveries: {recorded['opens']:,} opens of {opened['statuses'].get(200, 0):,} pixels "
          f"answered, {recorded['clicks']:,} clicks of {clicked['statuses'].get(302, 0):,} redirects")
    complete = (recorded["opens"] == opened["statuses"].get(200, 0) == opened["count"]
                and recorded["clicks"] == clicked["statuses"].get(302, 0) == clicked["count"])
    return 0 if complete else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
