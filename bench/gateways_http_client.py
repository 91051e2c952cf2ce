"""Cost of the guarded client (one DNS answer checked per new connection, the checked address pinned)
against a plain requests.Session, on a loopback server with keep-alive. Both reuse connections, so the
guard's cost shows mostly in --fresh mode, where every request opens a new connection."""

import argparse
import os
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class _Ok(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # else delayed ACKs, not the client, set the pace

    def do_POST(self):  # noqa: N802 - the stdlib's naming
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", "2")
        if self.headers.get("Connection", "").lower() == "close":
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args):
        pass


def _rate(call, count: int) -> float:
    started = time.perf_counter()
    for _ in range(count):
        call()
    return count / (time.perf_counter() - started)


def main(argv):
    parser = argparse.ArgumentParser(prog="bench gateways_http_client")
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--fresh", action="store_true", help="a new connection for every request")
    args = parser.parse_args(argv)

    os.environ.setdefault("GATEWAYS_ALLOW_PRIVATE_ADDRESSES", "0")
    from bench.conditions import describe, setup_django

    setup_django()
    import requests
    from django.conf import settings

    from gateways.http import ProviderHttp

    server = ThreadingHTTPServer(("127.0.0.1", 0), _Ok)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    # Production guard on, with this one loopback endpoint allowed, as a trusted internal receiver would be.
    settings.GATEWAYS_ALLOW_PRIVATE_ADDRESSES = False
    settings.GATEWAYS_ALLOWED_ENDPOINTS = [f"127.0.0.1:{server.server_address[1]}"]
    headers = {"Connection": "close"} if args.fresh else {}

    plain = requests.Session()
    plain.trust_env = False  # as the guarded client: no proxy or .netrc look-ups per request
    guarded = ProviderHttp(provider="bench", label="Bench", timeout=5.0)

    def plain_call():
        plain.post(url, json={"n": 1}, headers=headers, timeout=5)

    def guarded_call():
        guarded.request("POST", url, json={"n": 1}, headers=headers)

    _rate(plain_call, 50), _rate(guarded_call, 50)  # warm up both
    baseline = _rate(plain_call, args.requests)
    measured = _rate(guarded_call, args.requests)
    server.shutdown()

    print(describe(requests=args.requests, fresh_connections=args.fresh))
    print(f"guarded client: {measured:,.0f} requests/s | plain requests.Session: {baseline:,.0f} requests/s "
          f"| ratio {measured / baseline:.3f}")
    return 0
