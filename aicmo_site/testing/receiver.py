"""A loopback HTTP receiver standing in for a channel: it records every POST it gets (path,
Standard Webhooks id, body, arrival time) and answers each after `delay` seconds, so tests and benches
can count what a provider really received, answer slower than a client's timeout, or stall.

With `api`, it also speaks a provider's own API (a Slack workspace, gateways/testing/slack.py): the
POSTs it serves are still recorded and answered after `delay`, with the API's answer; its reads (GET,
a look-up) are answered at once and not recorded as deliveries."""

import json
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass(frozen=True)
class Delivery:
    path: str
    key: str  # the webhook-id header, "" for channels without one
    body: str
    arrived: float  # time.time()


class Receiver(ThreadingHTTPServer):
    daemon_threads = True
    # socketserver's default backlog of 5 drops connections under bursts (the posts then end as
    # "outcome unknown" and wait a retry's backoff); a provider's load balancer queues far more.
    request_queue_size = 128

    def __init__(self, *, delay: float = 0.0, answer=None, api=None):
        """`answer(n)`: the status of the n-th request (from 1) and its extra headers; 200 by default.
        `api(method, path, query, headers, body)`: (status, headers, JSON) for a request it serves, else None."""
        super().__init__(("127.0.0.1", 0), _ReceiverHandler)
        self.delay = delay
        self.answer = answer or (lambda n: (200, {}))
        self.api = api
        self.lock = threading.Lock()
        self.deliveries: list[Delivery] = []  # every request, as it arrived
        self.accepted: list[Delivery] = []  # those answered 2xx
        self.arrived = threading.Condition(self.lock)

    def __enter__(self) -> "Receiver":
        threading.Thread(target=self.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self.shutdown()
        self.server_close()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}{path}"

    def wait_for_deliveries(self, count: int, timeout: float) -> bool:
        """Wait until at least `count` requests have arrived (their answers may still be pending)."""
        with self.arrived:
            return self.arrived.wait_for(lambda: len(self.deliveries) >= count, timeout=timeout)


class _ReceiverHandler(BaseHTTPRequestHandler):
    def _api_answer(self, method: str, body: bytes):
        server: Receiver = self.server
        if server.api is None:
            return None
        path, _, query = self.path.partition("?")
        return server.api(method, path, query, self.headers, body)

    def do_POST(self):  # noqa: N802 - http.server's naming
        arrived = time.time()
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        server: Receiver = self.server
        delivery = Delivery(self.path, self.headers.get("webhook-id", ""), raw.decode(errors="replace"), arrived)
        with server.arrived:
            server.deliveries.append(delivery)
            status, headers = server.answer(len(server.deliveries))
            # The provider keeps what it accepted from the moment it arrives, as a look-up would see it.
            served = self._api_answer("POST", raw) if status < 300 else None
            if status < 300:
                server.accepted.append(delivery)
            server.arrived.notify_all()
        if server.delay:
            time.sleep(server.delay)
        if served is not None:
            status, headers, answer = served
            self._send(status, headers, json.dumps(answer).encode())
        else:
            self._send(status, headers, b"ok")

    def do_GET(self):  # noqa: N802 - http.server's naming
        served = self._api_answer("GET", b"")
        if served is None:
            self._send(404, {}, b"not found")
        else:
            status, headers, answer = served
            self._send(status, headers, json.dumps(answer).encode())

    def _send(self, status: int, headers: dict, body: bytes) -> None:
        try:
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except OSError:
            pass  # the client gave up waiting (its timeout): the request was received all the same

    def log_message(self, *args):
        pass
