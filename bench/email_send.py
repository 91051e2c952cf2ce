"""Email campaign sending end to end on PostgreSQL: a personalised campaign (about 10 kB of HTML per
message) to N contacts through Postfix's smtp-sink, sent by the worker count AICMO ships by default
(EMAIL_SEND_CONCURRENCY), each worker a separate process claiming deliveries from the database. The
worker processes are started, and Django set up in them, before the clock starts, as django-q2's workers
are running before a send (until 2026-12-07, 8th session, their start-up was timed too: about 2 s of a
5,000-message round on an idle machine).

Prints messages per second end to end (freezing the audience included) and the ratio to the baseline,
a bare smtplib loop pushing as many pre-rendered messages over one reused connection to the same
server: the two alternate, --rounds of each (default 3), each round a fresh audience and its own sink,
and the medians are compared. Also the load average at the start and end of each measurement, each
process's peak memory and the settings that matter (synchronous_commit). With --rate, also how closely
the configured messages-per-second limit was held over the busiest minute.

With --kill-after N, one worker is killed with SIGKILL once N messages are recorded as sent, and a
fresh worker process started in its place; the sink writes every message it receives to a file, and
the bench counts there, per recipient, what arrived: no recipient may have two copies, every delivery
recorded as sent must have arrived, and what arrived without being recorded must be marked "outcome
unknown" (at most one group: a worker ends one group of up to EMAIL_STARTS_PER_COMMIT messages at a time,
whatever its EMAIL_CONNECTIONS_PER_WORKER). Workers
get a 10 s lease in that mode (EMAIL_LEASE_SECONDS) so that the dead worker's claims come back within the run.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/aicmo_bench python -m bench email_send 10000
    DATABASE_URL=… python -m bench email_send 100000 --kill-after 50000
"""

import argparse
import json
import os
import secrets
import signal
import statistics
import subprocess
import sys
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path
from unittest import mock

from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parent.parent
BASELINE_MAX = 20_000  # pre-rendered payloads are held in memory; the rate is what is compared
PARAGRAPH = ("<p>{{ contact.first_name|default:'Friend' }}, here is what is new at "
             "{{ contact.company.name|default:'your company' }}: products, a webinar and a discount.</p>\n")


def template_html(size: int) -> str:
    body = PARAGRAPH * max(1, size // len(PARAGRAPH))
    return ('<html><body><h1>November news for {{ contact.first_name|default:"you" }}</h1>' + body
            + '<p><a href="https://example.org/webinar">Join the webinar</a> · '
              '<a href="https://example.org/shop?utm_source=email">Shop</a></p>'
              '<p><a href="{{ unsubscribe_url }}">Unsubscribe</a></p></body></html>')


def make_campaign(count: int, size: int, port: int, round_number: int = 1):
    from crm.models import Contact, Tag
    from gateways import services as gateway_services
    from gateways.capabilities import Capability
    from gateways.models import ProviderAccount
    from publishing.email.models import EmailCampaign, EmailTemplate
    from publishing.models import Campaign

    run = time.strftime("%Y%m%d%H%M%S") + f"-{round_number}"
    tag = Tag.objects.create(name=f"bench-{run}")
    for start in range(0, count, 5000):
        Contact.objects.bulk_create([
            Contact(email=f"r{run}-{n}@bench.example", domain="bench.example", first_name=f"Reader{n}")
            for n in range(start, min(count, start + 5000))
        ])
    ids = Contact.objects.filter(email__startswith=f"r{run}-").values_list("pk", flat=True)
    Contact.tags.through.objects.bulk_create([Contact.tags.through(contact_id=i, tag_id=tag.pk) for i in ids],
                                             batch_size=5000)
    ProviderAccount.objects.filter(capability=Capability.EMAIL_SENDING).update(enabled=False)
    gateway_services.account_create(capability=Capability.EMAIL_SENDING, adapter="smtp", name=f"sink-{run}",
                                    settings={"host": "127.0.0.1", "port": port, "security": "none",
                                              "from_email": "AICMO News <news@bench.example>"})
    template = EmailTemplate.objects.create(name=f"Bench {run}", subject="{{ contact.first_name }}, our news",
                                            html_body=template_html(size))
    campaign = Campaign.objects.create(name=f"Bench {run}", audience={"tag_ids": [tag.pk]})
    return EmailCampaign.objects.create(campaign=campaign, template=template, from_email="news@bench.example")


def own_peak_mb() -> float:
    """VmHWM of this process: unlike ru_maxrss it does not carry over the parent's peak across exec."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def worker_main(email_campaign_id: int) -> int:
    from publishing.email.sender import worker_run

    # Set up like a django-q worker waiting for its task: the clock starts once every worker is ready.
    print("ready", flush=True)
    sys.stdin.readline()
    report = worker_run(email_campaign_id=email_campaign_id, budget_seconds=24 * 3600)
    print(json.dumps({"sent": report.sent, "failed": report.failed, "unknown": report.unknown,
                      "peak_mb": round(own_peak_mb(), 1)}))
    return 0


def busiest_minute_rate(email_campaign) -> float | None:
    from django.db.models import Max, Min

    from publishing.email.models import EmailDelivery

    sent = EmailDelivery.objects.filter(campaign_id=email_campaign.campaign_id, sent_at__isnull=False)
    bounds = sent.aggregate(first=Min("sent_at"), last=Max("sent_at"))
    if not bounds["first"] or (bounds["last"] - bounds["first"]).total_seconds() < 70:
        return None
    # A minute away from the ramp-up and the tail.
    start = bounds["first"] + (bounds["last"] - bounds["first"]) / 2 - timedelta(seconds=30)
    return sent.filter(sent_at__gte=start, sent_at__lt=start + timedelta(seconds=60)).count() / 60


def start_worker(email_campaign_id: int, env: dict) -> subprocess.Popen:
    """A worker process, once Django is set up in it (it then waits for go())."""
    worker = subprocess.Popen([sys.executable, "-m", "bench", "email_send", "--worker-for", str(email_campaign_id)],
                              cwd=ROOT, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    if worker.stdout.readline().strip() != "ready":
        raise RuntimeError(f"worker {worker.pid} did not start")
    return worker


def go(worker: subprocess.Popen) -> subprocess.Popen:
    worker.stdin.write("go\n")
    worker.stdin.flush()
    return worker


def kill_one_when_sent(processes: list, email_campaign, count: int, env: dict) -> int:
    """SIGKILL the first worker once `count` deliveries are recorded as sent, start another; its pid."""
    from publishing.email.choices import DeliveryStatus
    from publishing.email.models import EmailDelivery

    sent = EmailDelivery.objects.filter(campaign_id=email_campaign.campaign_id, status=DeliveryStatus.SENT)
    while sent.count() < count and processes[0].poll() is None:
        time.sleep(0.05)
    victim = processes[0]
    victim.send_signal(signal.SIGKILL)
    victim.wait()
    processes[0] = go(start_worker(email_campaign.pk, env))
    return victim.pid


def arrived_at_sink(dump: Path) -> Counter:
    """Recipients of the messages smtp-sink wrote to its dump file (one X-Rcpt-Args line each)."""
    counts: Counter = Counter()
    with dump.open("rb") as lines:
        for line in lines:
            if line.startswith(b"X-Rcpt-Args: "):
                counts[line.split(b"<", 1)[1].split(b">", 1)[0].decode()] += 1
    return counts


def exactly_once_report(email_campaign, arrived: Counter) -> tuple[str, bool]:
    from publishing.email import conf
    from publishing.email.choices import DeliveryStatus
    from publishing.email.models import EmailDelivery

    status_of = dict(EmailDelivery.objects.filter(campaign_id=email_campaign.campaign_id)
                     .values_list("contact__email", "status"))
    duplicates = sum(1 for n in arrived.values() if n > 1)
    lost = sum(1 for email, status in status_of.items() if status == DeliveryStatus.SENT and not arrived[email])
    unknown = [email for email, status in status_of.items() if status == DeliveryStatus.OUTCOME_UNKNOWN]
    arrived = Counter({email: n for email, n in arrived.items() if email in status_of})  # not the baseline's
    unrecorded = sum(1 for email in arrived if status_of[email] not in (DeliveryStatus.SENT,
                                                                        DeliveryStatus.OUTCOME_UNKNOWN))
    text = (f"at the sink: {sum(arrived.values()):,} campaign messages to {len(arrived):,} recipients | duplicates "
            f"{duplicates} | sent but not at the sink {lost} | at the sink but neither sent nor unknown "
            f"{unrecorded} | outcome unknown {len(unknown)} (of which arrived {sum(1 for e in unknown if arrived[e])})")
    # One kill: at most one group of messages in the unknown window.
    in_doubt = min(conf.starts_per_commit(), conf.connections_per_worker())
    return text, duplicates == 0 and lost == 0 and unrecorded == 0 and len(unknown) <= in_doubt


def main(argv):
    parser = argparse.ArgumentParser(prog="bench email_send", description=__doc__)
    parser.add_argument("audience", type=int, nargs="?", default=10_000)
    parser.add_argument("--size", type=int, default=10_000, help="approximate HTML bytes per message")
    parser.add_argument("--workers", type=int, default=0, help="default: EMAIL_SEND_CONCURRENCY")
    parser.add_argument("--rate", type=float, default=0, help="EMAIL_RATE_PER_SECOND for this run (0: none)")
    parser.add_argument("--kill-after", type=int, default=0,
                        help="SIGKILL one worker once this many messages are sent, start another, count at the sink")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of the baseline and AICMO, alternating")
    parser.add_argument("--worker-for", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    os.environ.setdefault("GATEWAYS_ALLOW_PRIVATE_ADDRESSES", "1")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    if not args.worker_for:  # workers inherit the parent's settings through their environment
        os.environ["EMAIL_RATE_PER_SECOND"] = str(args.rate)
        # As deployed: with DEBUG on, every query would also be logged in memory (up to 9,000 per process).
        os.environ.setdefault("DEBUG", "0")
        os.environ.setdefault("SECRET_KEY", "bench-email-send-" + secrets.token_hex(24))
        os.environ.setdefault("FIELD_ENCRYPTION_KEY", Fernet.generate_key().decode())

    from bench.conditions import describe, setup_django

    setup_django()
    if args.worker_for:
        return worker_main(args.worker_for)

    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    from bench.email_smtp_baseline import smtplib_baseline, start_counting_sink
    from publishing.email import conf

    if connection.vendor != "postgresql":
        print("note: the issue asks for PostgreSQL; set DATABASE_URL=postgres://…", file=sys.stderr)
    call_command("migrate", verbosity=0)
    workers = args.workers or conf.send_concurrency()
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": os.environ.get("DJANGO_SETTINGS_MODULE",
                                                                   "aicmo_site.settings.base"),
           "EMAIL_SEND_CONCURRENCY": str(workers)}
    if args.kill_after:
        env["EMAIL_LEASE_SECONDS"] = "10"
    rounds, all_ok, payloads = [], True, None
    for number in range(1, args.rounds + 1):
        # A sink per round: what it wrote is counted once it has stopped.
        sink, port, dump, dump_dir = start_counting_sink(bool(args.kill_after), "bench-email-sink-")
        try:
            email_campaign = make_campaign(args.audience, args.size, port, number)
            if payloads is None:
                payloads, size = baseline_payloads(email_campaign, args.audience)
            before = load()
            baseline = smtplib_baseline("127.0.0.1", port, payloads)
            print(f"round {number}: bare smtplib {baseline:,.0f} messages/s, load {before} -> {load()}", flush=True)
            before = load()
            result = aicmo_round(args, email_campaign, workers, env)
        finally:
            sink.terminate()
            sink.wait(timeout=10)
        if dump_dir:
            crash_text, crash_ok = exactly_once_report(email_campaign, arrived_at_sink(dump))
            result["lines"].append(crash_text + (" | exactly once: yes" if crash_ok else " | exactly once: NO"))
            result["ok"] = result["ok"] and crash_ok
            dump_dir.cleanup()
        all_ok = all_ok and result["ok"]
        rounds.append((baseline, result))
        print(f"round {number}: AICMO {result['rate']:,.0f} messages/s ({result['elapsed']:,.1f} s, of which "
              f"freezing the audience {result['frozen']:,.2f} s), ratio {result['rate'] / baseline:.2f}, "
              f"load {before} -> {load()}", flush=True)
        for line in result["lines"]:
            print("  " + line)
    del payloads

    print(describe(audience=args.audience, rounds=args.rounds, bytes_per_message=f"{size:,.0f}", server="smtp-sink",
                   workers=workers, smtp_connections_per_worker=conf.connections_per_worker(),
                   starts_per_commit=conf.starts_per_commit(),
                   rate_limit=args.rate or "none", debug=settings.DEBUG, synchronous_commit=conf.synchronous_commit(),
                   transaction_pooling=settings.DATABASE_TRANSACTION_POOLING))
    rate = statistics.median(result["rate"] for _b, result in rounds)
    baseline = statistics.median(b for b, _result in rounds)
    print(f"median of {args.rounds} rounds, alternating, {args.audience:,} messages each: AICMO {rate:,.0f} "
          f"messages/s | bare smtplib loop {baseline:,.0f} messages/s | ratio {rate / baseline:.2f} (goal >= 0.6)")
    print("peak memory: parent {:,.0f} MB (holds the baseline's pre-rendered messages) | workers {}".format(
        own_peak_mb(), ", ".join(f"{mb:,.0f} MB" for mb in rounds[-1][1]["peaks"])))
    return 0 if all_ok else 1


def load() -> str:
    return "{:.1f}/{:.1f}/{:.1f}".format(*os.getloadavg())


def baseline_payloads(email_campaign, count: int) -> tuple[list[tuple[str, bytes]], float]:
    """`count` messages of the campaign rendered and built beforehand, and their mean size: past BASELINE_MAX
    the same ones are sent again in turn (the pre-rendered messages are held in memory)."""
    from gateways.mail import render_message
    from publishing.email.composing import content_of, outgoing_for, render_for
    from publishing.email.rendering import Recipient

    content = content_of(email_campaign.template)
    payloads = []
    for n in range(min(count, BASELINE_MAX)):
        rendered = render_for(content, Recipient(email=f"reader{n}@bench.example", first_name=f"Reader{n}"),
                              campaign_name="Bench", delivery_id=n + 1)
        message = outgoing_for(email_campaign=email_campaign, rendered=rendered, to=f"reader{n}@bench.example",
                               delivery_id=n + 1, link_ids={})
        payloads.append((message.to, render_message(message, default_from="news@bench.example").data))
    size = sum(len(payload) for _to, payload in payloads) / len(payloads)
    return [payloads[n % len(payloads)] for n in range(count)], size


def aicmo_round(args, email_campaign, workers: int, env: dict) -> dict:
    """The campaign to its fresh audience, sent by its own worker processes (started beforehand); timed
    from freezing the audience to the last worker's exit."""
    from publishing.email.selectors import email_campaign_progress
    from publishing.email.services import email_campaign_send

    # The bench starts its own worker processes instead of waking django-q2 ones, and, like django-q2's,
    # they are running before the send: starting Python and Django is about 2 s of CPU a process, which a
    # send in production never waits for.
    processes = [start_worker(email_campaign.pk, env) for _ in range(workers)]
    started = time.perf_counter()
    with mock.patch("publishing.email.services.campaigns.campaign_wake"):
        email_campaign_send(email_campaign=email_campaign)
    frozen = time.perf_counter() - started
    for process in processes:
        go(process)
    killed = kill_one_when_sent(processes, email_campaign, args.kill_after, env) if args.kill_after else None
    reports = [json.loads(p.communicate()[0].strip().splitlines()[-1]) for p in processes]
    elapsed = time.perf_counter() - started
    email_campaign.refresh_from_db()
    progress = email_campaign_progress(email_campaign)
    lines = [f"sent {progress.sent:,}, failed {progress.failed}, outcome unknown {progress.outcome_unknown}, "
             f"remaining {progress.remaining}; status {email_campaign.status}"]
    ok = progress.remaining == 0
    if args.rate:
        minute = busiest_minute_rate(email_campaign)
        held = f"{minute:,.1f}/s ({100 * (minute - args.rate) / args.rate:+.1f}%)" if minute else "run under 70 s"
        lines.append(f"rate limit {args.rate:g}/s: busiest middle minute {held}")
    if args.kill_after:
        lines.append(f"kill -9 of worker {killed} after {args.kill_after:,} sent, a new worker started in its place "
                     "(10 s lease)")
    return {"rate": progress.sent / elapsed, "elapsed": elapsed, "frozen": frozen, "lines": lines, "ok": ok,
            "peaks": [report["peak_mb"] for report in reports]}


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
