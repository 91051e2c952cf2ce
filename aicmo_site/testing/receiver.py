"""A loopback HTTP receiver standing in for a channel: it records every request it gets (path,
Standard Webhooks id, body, arrival time) and answers each after `delay` seconds, so tests and benches
can count what a provider really received, answer slower than a client's timeout, or stall."""

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

    def __init__(self, *, delay: float = 0.0, answer=None):
        """`answer(n)`: the status of the n-th request (from 1) and its extra headers; 200 by default."""
        super().__init__(("127.0.0.1", 0), _ReceiverHandler)
        self.delay = delay
        self.answer = answer or (lambda n: (200, {}))
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
    def do_POST(self):  # noqa: N802 - http.server's naming
        arrived = time.time()
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode(errors="replace")
        server: Receiver = self.server
        delivery = Delivery(self.path, self.headers.get("webhook-id", ""), body, arrived)
        with server.arrived:
            server.deliveries.append(delivery)
            status, headers = server.answer(len(server.deliveries))
            if status < 300:
                server.accepted.append(delivery)
            server.arrived.notify_all()
        if server.delay:
            time.sleep(server.delay)
        try:
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")
        except OSError:
            pass  # the client gave up waiting (its timeout): the request was received all the same

    def log_message(self, *args):
        pass
