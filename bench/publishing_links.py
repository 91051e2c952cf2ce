"""The link checker on one content item with 500 links, against loopback servers on five hosts (some
links slow, some 404, some behind redirect chains, some refusing HEAD), with the production address
guard on and only these servers allowed. Baseline, interleaved in the same run: the same links with
plain `requests` HEADs one after another (redirects followed, GET when HEAD is refused), and the
checker itself with one thread. Goal (issue #20): under 10 s."""

import argparse
import os
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HOSTS = ("127.0.0.1", "127.0.0.2", "127.0.0.3", "127.0.0.4", "127.0.0.5")
SLOW_SECONDS = 0.3
# Of every 10 links: 6 working, 1 slow, 1 missing, 1 behind 3 redirects, 1 refusing HEAD.
KINDS = ("ok", "ok", "ok", "ok", "ok", "ok", "slow", "gone", "r3", "nohead")


class _Site(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def _answer(self, head: bool):
        path = self.path.split("?", 1)[0].strip("/")
        kind, _, rest = path.partition("/")
        if kind == "slow":
            time.sleep(SLOW_SECONDS)
        if kind == "nohead" and head:
            return self._send(405)
        if kind.startswith("r") and kind[1:].isdigit():
            hops = int(kind[1:])
            return self._send(301, location=f"/{'r' + str(hops - 1) if hops > 1 else 'ok'}/{rest}")
        self._send(404 if kind == "gone" else 200)

    def _send(self, status: int, location: str = ""):
        self.send_response(status)
        if location:
            self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_HEAD(self):  # noqa: N802 - the stdlib's naming
        self._answer(head=True)

    def do_GET(self):  # noqa: N802
        self._answer(head=False)

    def log_message(self, *args):
        pass


def _serve(host: str) -> ThreadingHTTPServer:
    server = ThreadingHTTPServer((host, 0), _Site)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def _plain_sequential(urls: list[str]) -> list[bool]:
    import requests

    session = requests.Session()
    session.trust_env = False
    answers = []
    for url in urls:
        response = session.head(url, allow_redirects=True, timeout=10)
        if response.status_code in (400, 403, 405, 501):
            response = session.get(url, allow_redirects=True, timeout=10)
        answers.append(response.ok)
    return answers


def _timed(call) -> tuple[float, object]:
    started = time.perf_counter()
    value = call()
    return time.perf_counter() - started, value


def main(argv):
    parser = argparse.ArgumentParser(prog="bench publishing_links")
    parser.add_argument("--links", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args(argv)

    os.environ.setdefault("GATEWAYS_ALLOW_PRIVATE_ADDRESSES", "0")
    from bench.conditions import describe, setup_django

    setup_django()
    from django.conf import settings

    from publishing import links
    from publishing.models import Content

    servers = [_serve(host) for host in HOSTS]
    settings.GATEWAYS_ALLOW_PRIVATE_ADDRESSES = False
    settings.GATEWAYS_ALLOWED_ENDPOINTS = [f"{host}:{server.server_address[1]}" for host, server in
                                           zip(HOSTS, servers, strict=True)]
    bases = [f"http://{host}:{server.server_address[1]}" for host, server in zip(HOSTS, servers, strict=True)]
    # One content item whose body holds every link, as an author would paste them.
    body = "\n".join(f"- [link {n}]({bases[n % len(bases)]}/{KINDS[n // len(bases) % len(KINDS)]}/{n})"
                     for n in range(args.links))
    urls = links.content_links(Content(title="Link-heavy newsletter", body=body), versions=[])
    assert len(urls) == args.links
    expected_broken = sum(1 for url in urls if "/gone/" in url)

    print(describe(links=len(urls), hosts=len(HOSTS), per_site=links.PER_SITE, workers=links.WORKERS,
                   slow_seconds=SLOW_SECONDS))
    print(f"load average before: {', '.join(f'{value:.2f}' for value in os.getloadavg())}")
    for round_number in range(1, args.rounds + 1):
        plain, answers = _timed(lambda: _plain_sequential(urls))
        checked, results = _timed(lambda: links.links_check(urls, use_cache=False))
        workers = links.WORKERS
        links.WORKERS = 1
        try:
            single, _ = _timed(lambda: links.links_check(urls, use_cache=False))
        finally:
            links.WORKERS = workers
        broken = sum(1 for result in results if not result.ok)
        redirected = sum(1 for result in results if result.redirected)
        assert broken == expected_broken == answers.count(False), (broken, expected_broken, answers.count(False))
        print(f"round {round_number}: link checker {checked:.2f} s ({len(results)} reported, {broken} broken, "
              f"{redirected} redirected) | same checker, 1 thread: {single:.2f} s | plain requests, "
              f"sequential: {plain:.2f} s | load average {os.getloadavg()[0]:.2f}")
    for server in servers:
        server.shutdown()
    return 0
