"""Publishing dispatch at scale: N jobs due within a window across channel accounts, posted by
`--dispatchers` processes (`manage.py publish_due --loop`) to a local receiver that records every
request, answers some with 429 and Retry-After, and may answer slowly (`--slow-receiver`); with
`--kill-every`, a random dispatcher is killed with SIGKILL that often and another started; with
`--urgent`, that many urgent jobs fall due over the run, on top of the backlog; with `--slack-bot N`,
N of the accounts are Slack (bot token) accounts, the receiver answering them as a Slack workspace
(gateways/testing/slack.py: every request a new message, found again by its job key after a kill).

Prints jobs/s; the lag from a job's due time to the receiver seeing its first request (p50, p99),
for urgent jobs apart; double posts (one job delivered under two different keys); repeated
deliveries of one key; jobs wrongly in "needs checking" (the receiver never got them) or "failed"
(the receiver has them); and rate-limit violations (a request arriving when the account's token
bucket, as configured, was empty; counted with one token of slack and without).

A delivery is a request the receiver processed (answered 2xx): one it refused with 429 did nothing,
and its retry is the first delivery, not a repeat. Repeats of a processed key are split in two:
"same_key_retries_after_kill_or_timeout" (the first was processed but its answer never reached a
live dispatcher: it came after the account's timeout, or a dispatcher was killed in between; the
retry carries the same webhook-id, which receivers drop) and "repeated_deliveries_of_a_key" (any
other: a dispatcher sent a processed job again with nothing to excuse it).
Goals: double posts, repeated deliveries of a key, wrongly "needs checking" or "failed" all 0; p99
lag under 5 s; urgent p99 under 30 s behind a 10k backlog.

    python -m bench publishing_dispatch --jobs 10000
    python -m bench publishing_dispatch --jobs 10000 --window 0 --urgent 50   # urgent behind a backlog
    python -m bench publishing_dispatch --jobs 2000 --slow-receiver 0.3 --kill-every 8
    python -m bench publishing_dispatch --jobs 400 --accounts 4 --slack-bot 2 --slow-receiver 0.3 --kill-every 4
"""

import argparse
import base64
import json
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SETTLED = ("published", "needs_checking", "failed")


def violations(arrivals: list[float], count: int, period: float, slack: float = 1.0) -> int:
    """Requests that found the account's token bucket (capacity `count`, refilled at count/period) empty,
    with `slack` tokens of slack for clock differences between processes."""
    rate = count / period
    tokens, last, bad = float(count), None, 0
    for at in sorted(arrivals):
        if last is not None:
            tokens = min(float(count), tokens + (at - last) * rate)
        last = at
        if tokens + slack >= 1:
            tokens -= 1
        else:
            bad += 1
    return bad


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else float("nan")


def _rounded(value: float) -> float | None:
    return None if value != value else round(value, 3)  # NaN (no such jobs) prints as null


class Dispatchers:
    def __init__(self, count: int, env: dict):
        self.env = env
        self.processes = [self._start() for _ in range(count)]
        self.killed = 0
        self.kill_times: list[float] = []

    def _start(self) -> subprocess.Popen:
        return subprocess.Popen([sys.executable, "manage.py", "publish_due", "--loop"], cwd=ROOT, env=self.env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)

    def kill_one(self, rng: random.Random) -> None:
        victim = self.processes.pop(rng.randrange(len(self.processes)))
        os.killpg(victim.pid, signal.SIGKILL)
        victim.wait(timeout=30)
        self.killed += 1
        self.kill_times.append(time.time())
        self.processes.append(self._start())

    def stop(self) -> None:
        for process in self.processes:
            process.terminate()
        for process in self.processes:
            process.wait(timeout=30)


def main(argv):
    parser = argparse.ArgumentParser(prog="bench publishing_dispatch")
    parser.add_argument("--jobs", type=int, default=10_000)
    parser.add_argument("--accounts", type=int, default=20)
    parser.add_argument("--dispatchers", type=int, default=2)
    parser.add_argument("--window", type=float, default=60.0, help="seconds over which jobs fall due")
    parser.add_argument("--rate", type=int, default=15, help="requests per second allowed per account")
    parser.add_argument("--throttle-every", type=int, default=97, help="answer every Nth request with 429")
    parser.add_argument("--slow-receiver", type=float, default=0.0, help="seconds the receiver takes to answer")
    parser.add_argument("--timeout", type=float, default=10.0, help="the accounts' request timeout")
    parser.add_argument("--kill-every", type=float, default=0.0, help="SIGKILL a random dispatcher this often")
    parser.add_argument("--urgent", type=int, default=0, help="urgent jobs falling due over the run")
    parser.add_argument("--lease", type=int, default=None, help="PUBLISHING_LEASE_SECONDS (default: the app's)")
    parser.add_argument("--slack-bot", type=int, default=0, help="how many of the accounts are Slack (bot token)")
    parser.add_argument("--seed", type=int, default=None)
    args = parser.parse_args(argv)
    seed = args.seed if args.seed is not None else random.randrange(1 << 30)
    rng = random.Random(seed)

    tmp = tempfile.mkdtemp(prefix="aicmo-bench-")
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{tmp}/bench.sqlite3")
    os.environ["GATEWAYS_ALLOW_PRIVATE_ADDRESSES"] = "1"
    os.environ.setdefault("PUBLISHING_DISPATCH_POLL_SECONDS", "0.2")
    if args.lease is not None:
        os.environ["PUBLISHING_LEASE_SECONDS"] = str(args.lease)
    # Dispatchers run as in production: DEBUG keeps a log of every query, which no deployment pays for.
    os.environ.setdefault("DEBUG", "0")
    os.environ.setdefault("SECRET_KEY", "bench-publishing-dispatch-" + "x" * 40)
    os.environ.setdefault("FIELD_ENCRYPTION_KEY", base64.urlsafe_b64encode(os.urandom(32)).decode())
    from bench.conditions import describe, setup_django

    setup_django()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.utils import timezone

    call_command("migrate", verbosity=0)
    from aicmo_site.testing.receiver import Receiver
    from gateways.capabilities import Capability
    from gateways.services import account_create
    from gateways.testing.slack import BOT_TOKEN, SlackWorkspace
    from publishing.models import Campaign, Channel, ChannelVersion, Content, PublishingJob

    throttle = args.throttle_every
    workspace = SlackWorkspace(channels=tuple(f"C{n}" for n in range(args.accounts)))
    receiver = Receiver(delay=args.slow_receiver, api=workspace.answer,
                        answer=lambda n: (429, {"Retry-After": "1"}) if throttle and n % throttle == 0 else (204, {}))
    receiver.__enter__()

    author, _ = get_user_model().objects.get_or_create(username="bench")
    channels = []
    for n in range(args.accounts):
        slack = n < args.slack_bot
        account = account_create(
            capability=Capability.CHANNEL_POSTING, adapter="slack_bot" if slack else "webhook",
            name=f"bench receiver {n}", rate_limit_count=args.rate, rate_limit_seconds=1.0,
            timeout_seconds=args.timeout,
            **({"base_url": receiver.url(f"/acct/{n}"), "settings": {"channel_id": f"C{n}"},
                "credentials": {"bot_token": BOT_TOKEN}} if slack else
               {"settings": {"url": receiver.url(f"/acct/{n}")},
                "credentials": {"signing_secret": "whsec_dGVzdC1zZWNyZXQtMDEyMzQ1Njc4OWFiY2RlZg=="}}),
        )
        channels.append(Channel.objects.create(name=f"Receiver {n}", slug=f"receiver-{n}", kind=account.channel,
                                               provider_account=account))
    total = args.jobs + args.urgent
    per_channel = -(-total // args.accounts)
    contents = Content.objects.bulk_create(
        Content(title=f"Post {n}", slug=f"post-{n}", body=f"Body of post {n}", author=author, status="approved")
        for n in range(per_channel))
    versions = ChannelVersion.objects.bulk_create(
        ChannelVersion(content=c, kind="webhook", title=c.title, body=c.body) for c in contents)
    campaign = Campaign.objects.create(name="Bench", status="running")
    start = timezone.now() + timedelta(seconds=5)
    # Urgent jobs fall due over the backlog's drain: its first half when the window is 0.
    urgent_span = args.window or max(5.0, args.jobs / (args.accounts * args.rate) / 2)
    urgent_at = sorted(rng.uniform(0, urgent_span) for _ in range(args.urgent))
    jobs, n = [], 0
    for version in versions:
        for channel in channels:
            if n >= total:
                break
            urgent = n >= args.jobs
            offset = urgent_at[n - args.jobs] if urgent else args.window * n / max(args.jobs, 1)
            due = start + timedelta(seconds=offset)
            jobs.append(PublishingJob(campaign=campaign, content_id=version.content_id, channel=channel,
                                      version=version, scheduled_at=due, due_at=due, urgent=urgent))
            n += 1
    PublishingJob.objects.bulk_create(jobs, batch_size=1000)
    # A job is its channel (the receiver's path) and its content (the canonical URL in the payload).
    path_of = {channel.pk: f"/acct/{n}" for n, channel in enumerate(channels)}
    job_of = {(path_of[channel_id], f"/p/{slug}/"): pk for pk, channel_id, slug in
              PublishingJob.objects.values_list("pk", "channel_id", "content__slug")}
    job_of_key = {str(key): pk for pk, key in PublishingJob.objects.values_list("pk", "idempotency_key")}
    due_of = dict(PublishingJob.objects.values_list("pk", "due_at"))
    urgent_jobs = set(PublishingJob.objects.filter(urgent=True).values_list("pk", flat=True))
    limits = {f"/acct/{i}": (args.rate, 1.0) for i in range(args.accounts)}

    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "aicmo_site.settings.base"}
    dispatchers = Dispatchers(args.dispatchers, env)
    began = time.time()
    next_kill = began + args.kill_every if args.kill_every else float("inf")
    try:
        deadline = began + args.window + 600
        while (PublishingJob.objects.filter(status__in=SETTLED).count() < total and time.time() < deadline):
            if time.time() >= next_kill:
                dispatchers.kill_one(rng)
                next_kill = time.time() + args.kill_every
            time.sleep(0.5)
    finally:
        dispatchers.stop()
    receiver.__exit__()
    deliveries = list(receiver.deliveries)
    finished = max((d.arrived for d in deliveries), default=time.time())
    statuses = dict(PublishingJob.objects.values_list("pk", "status"))

    keys_of, first_arrival, key_count = defaultdict(set), {}, Counter()
    accepted = set(receiver.accepted)
    processed_keys = {d.key for d in receiver.accepted if d.key}
    for index, delivery in enumerate(deliveries):
        slack_key = _slack_job_key(delivery.body)
        if slack_key:
            pk = job_of_key.get(slack_key)
        else:
            pk = next((job_of[(delivery.path, path)] for path in _public_paths(delivery.body)
                       if (delivery.path, path) in job_of), None)
        if pk is None:
            continue
        first_arrival[pk] = min(delivery.arrived, first_arrival.get(pk, delivery.arrived))
        key = delivery.key
        if slack_key:
            if delivery not in accepted:
                continue  # refused with 429: no message was made
            # Slack has no key: every message it accepted is a post of its own.
            key = f"slack message {index}"
            processed_keys.add(key)
        keys_of[pk].add(key)
        key_count[key] += 1
    processed = {pk for pk, keys in keys_of.items() if keys & processed_keys}
    repeated, excused = _processed_repeats(receiver.accepted, answer_after=args.slow_receiver,
                                           timeout=args.timeout, kills=dispatchers.kill_times)
    lags = {pk: max(0.0, at - due_of[pk].timestamp()) for pk, at in first_arrival.items()}
    normal = [lag for pk, lag in lags.items() if pk not in urgent_jobs]
    urgent = [lag for pk, lag in lags.items() if pk in urgent_jobs]
    broken = sum(violations([d.arrived for d in deliveries if _of_account(d.path, path)], *limits[path])
                 for path in limits)
    # Without the token of slack: what the provider's own bucket would refuse (the dispatcher keeps
    # GATEWAYS_RATE_LIMIT_MARGIN_SECONDS of reserve for requests that leave late after their token).
    strict = sum(violations([d.arrived for d in deliveries if _of_account(d.path, path)], *limits[path],
                            slack=0.0) for path in limits)
    published = sum(status == "published" for status in statuses.values())
    print(describe(jobs=args.jobs, urgent=args.urgent, accounts=args.accounts, dispatchers=args.dispatchers,
                   window_s=args.window, rate_per_account=args.rate, throttle_every=args.throttle_every,
                   slow_receiver_s=args.slow_receiver, timeout_s=args.timeout, kill_every_s=args.kill_every,
                   lease_s=os.environ.get("PUBLISHING_LEASE_SECONDS", "default"), slack_bot=args.slack_bot,
                   seed=seed))
    print(json.dumps({
        "published": published, "settled": sum(s in SETTLED for s in statuses.values()), "total": total,
        "jobs_per_s": round(published / max(finished - start.timestamp(), 1e-9), 1),
        # jobs_per_s cannot exceed jobs/window while the dispatchers keep up; this says by how much they
        # trailed the last due time (run with --window 0 to measure how fast they can go).
        "last_post_after_last_due_s": round(finished - start.timestamp() - args.window, 3),
        "lag_p50_s": _rounded(percentile(normal, 0.50)), "lag_p99_s": _rounded(percentile(normal, 0.99)),
        "lag_max_s": _rounded(max(normal, default=float("nan"))),
        "urgent_lag_p50_s": _rounded(percentile(urgent, 0.50)), "urgent_lag_p99_s": _rounded(percentile(urgent, 0.99)),
        "double_posts": sum(len(keys) - 1 for keys in keys_of.values()),
        "repeated_deliveries_of_a_key": repeated,
        "same_key_retries_after_kill_or_timeout": excused,
        "same_key_requests_after_a_refusal": sum(c - 1 for c in key_count.values() if c > 1) - repeated - excused,
        "wrongly_needs_checking": sum(status == "needs_checking" and pk not in processed
                                      for pk, status in statuses.items()),
        "wrongly_failed": sum(status == "failed" and pk in processed for pk, status in statuses.items()),
        "needs_checking": sum(status == "needs_checking" for status in statuses.values()),
        "failed": sum(status == "failed" for status in statuses.values()),
        "slack_lookups": len(workspace.history_calls),
        "dispatchers_killed": dispatchers.killed, "answered_429": len(deliveries) - len(receiver.accepted),
        "rate_limit_violations": broken, "violations_without_slack": strict,
        "rate_limit_margin_s": os.environ.get("GATEWAYS_RATE_LIMIT_MARGIN_SECONDS", "default"),
        "mean_lag_s": round(statistics.fmean(normal), 3) if normal else None,
    }))
    shutil.rmtree(tmp, ignore_errors=True)  # the SQLite database of a run without DATABASE_URL
    return 0


def _processed_repeats(accepted, *, answer_after: float, timeout: float, kills: list[float]) -> tuple[int, int]:
    """Processed (2xx) requests of a key after its first: (unexcused, after a kill or a timeout).

    A repeat is excused when the processed request before it never got its answer to a live
    dispatcher: the receiver answered after the account's timeout, or a dispatcher was killed
    between that request's arrival and the repeat."""
    by_key = defaultdict(list)
    for delivery in accepted:
        if delivery.key:
            by_key[delivery.key].append(delivery.arrived)
    unexcused = excused = 0
    for arrivals in by_key.values():
        arrivals.sort()
        for before, at in zip(arrivals, arrivals[1:], strict=False):
            if answer_after >= timeout or any(before <= kill <= at for kill in kills):
                excused += 1
            else:
                unexcused += 1
    return unexcused, excused


def _public_paths(body: str) -> list[str]:
    """The content's public path in a webhook payload (its canonical URL), for telling jobs apart."""
    try:
        url = json.loads(body)["data"]["canonical_url"]
    except (ValueError, KeyError, TypeError):
        return []
    return [url[url.index("/p/"):]] if "/p/" in url else []


def _slack_job_key(body: str) -> str:
    """The job key a Slack bot-token post carries in its message metadata; "" for other posts."""
    try:
        return str(json.loads(body)["metadata"]["event_payload"]["job_key"])
    except (ValueError, KeyError, TypeError):
        return ""


def _of_account(delivery_path: str, account_path: str) -> bool:
    """A webhook posts to the account's own path; a Slack bot account calls methods under it."""
    return delivery_path == account_path or delivery_path.startswith(account_path + "/")
