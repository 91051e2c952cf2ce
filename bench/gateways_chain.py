"""What the provider chain costs per call (health recorded in the database, breaker checked) against
calling the adapter directly, and whether the shared token bucket holds its limit when several
processes draw from it at once. Uses a throwaway SQLite database unless DATABASE_URL is set."""

import argparse
import multiprocessing
import os
import tempfile
import time


def _draw_tokens(account_id: int, limit: tuple[int, float], seconds: float, results) -> None:
    from django.db import connections

    connections.close_all()  # a forked child must not share its parent's database connection
    from gateways.ratelimit import take_token

    # Each take is bracketed by the times before and after it: the span these give can only be
    # longer than the real one, so a scheduling pause can never make the bucket look exceeded.
    takes, deadline = [], time.monotonic() + seconds
    while time.monotonic() < deadline:
        before = time.time()
        if take_token(account_id, limit, max_wait=0.05) is not None:
            takes.append((before, time.time()))
    results.put(takes)


def main(argv):
    parser = argparse.ArgumentParser(prog="bench gateways_chain")
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--processes", type=int, default=4)
    parser.add_argument("--rate", type=int, default=20, help="bucket limit, requests per second")
    parser.add_argument("--seconds", type=float, default=3.0)
    args = parser.parse_args(argv)

    tmp = tempfile.mkdtemp(prefix="aicmo-bench-")
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{tmp}/bench.sqlite3")
    from bench.conditions import describe, setup_django

    setup_django()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from django.db import connections

    from gateways import services
    from gateways.capabilities import Capability, EnrichedPerson, LeadEnrichmentAdapter, PersonQuery, register

    @register
    class BenchEnrichmentAdapter(LeadEnrichmentAdapter):
        key = "bench_enrichment"
        label = "Benchmark enrichment"

        def enrich(self, people):
            return [EnrichedPerson(ref=p.ref, provider=self.name, fields={}, raw={}) for p in people]

    account = services.account_create(capability=Capability.LEAD_ENRICHMENT, adapter="bench_enrichment",
                                      name=f"bench-{time.time_ns()}")
    people = [PersonQuery(ref="1")]

    adapter = account.build_adapter()
    started = time.perf_counter()
    for _ in range(args.calls):
        adapter.enrich(people)
    direct = args.calls / (time.perf_counter() - started)
    started = time.perf_counter()
    for _ in range(args.calls):
        services.enrich_people(people)
    chained = args.calls / (time.perf_counter() - started)

    limited = services.account_create(capability=Capability.LEAD_ENRICHMENT, adapter="bench_enrichment",
                                      name=f"bench-limited-{time.time_ns()}", rate_limit_count=args.rate,
                                      rate_limit_seconds=1)
    connections.close_all()
    context = multiprocessing.get_context("fork")
    results = context.Queue()
    workers = [context.Process(target=_draw_tokens, args=(limited.pk, (args.rate, 1.0), args.seconds, results))
               for _ in range(args.processes)]
    for worker in workers:
        worker.start()
    takes = [take for _ in workers for take in results.get(timeout=args.seconds + 60)]
    for worker in workers:
        worker.join()
    taken = len(takes)
    window = max(after for _, after in takes) - min(before for before, _ in takes) if takes else 0.0
    # One full bucket at the first take, then the steady rate over the window the takes spanned.
    allowed = args.rate + args.rate * window

    print(describe(calls=args.calls, processes=args.processes, rate=args.rate, seconds=args.seconds))
    print(f"chain: {chained:,.0f} calls/s | direct adapter baseline: {direct:,.0f} calls/s "
          f"| ratio {chained / direct:.4f}")
    print(f"shared bucket: {taken} tokens taken by {args.processes} processes over {window:.2f} s "
          f"| allowed at most {allowed:.0f} | {'held' if taken <= allowed else 'EXCEEDED'}")
    return 0 if taken <= allowed else 1
