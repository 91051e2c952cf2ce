"""A post to a channel without idempotency key or look-up (Slack, Discord, plain webhooks) opens its
connection before the caller's "may be sent now" mark, so a kill or a failure to connect while the
connection is set up can never leave a post in doubt that was never sent."""

import socket
import threading

import pytest

from gateways.capabilities import Capability, ChannelPost
from gateways.errors import ProviderUnavailable
from gateways.services import account_create, publish_posts_in_turn

pytestmark = pytest.mark.django_db


class RawServer:
    """A TCP listener that notes when it accepts a connection and what bytes came before it answers."""

    def __init__(self):
        self.server = socket.create_server(("127.0.0.1", 0))
        self.accepted = threading.Event()
        self.received = b""
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.getsockname()[1]}/hook"

    def _serve(self):
        conn, _ = self.server.accept()
        self.accepted.set()
        with conn:
            while b"\r\n\r\n" not in self.received:
                self.received += conn.recv(65536)
            head, _, body = self.received.partition(b"\r\n\r\n")
            length = next((int(line.split(b":")[1]) for line in head.split(b"\r\n")
                           if line.lower().startswith(b"content-length")), 0)
            while len(body) < length:
                body += conn.recv(65536)
            self.received = head + b"\r\n\r\n" + body
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")

    def close(self):
        self.server.close()


@pytest.fixture
def raw_server():
    server = RawServer()
    yield server
    server.close()


def slack_account(url: str):
    return account_create(capability=Capability.CHANNEL_POSTING, adapter="slack", name="Slack",
                          credentials={"webhook_url": url}, rate_limit_count=100, rate_limit_seconds=1)


def test_the_connection_is_open_before_the_mark_and_no_byte_has_left(raw_server):
    account = slack_account(raw_server.url())
    seen = {}

    def before_send(index: int) -> bool:
        seen["connected"] = raw_server.accepted.wait(timeout=5)
        seen["bytes_before_mark"] = raw_server.received
        return True

    results = list(publish_posts_in_turn(account_id=account.pk, posts=[ChannelPost(idempotency_key="k", text="Hi")],
                                         before_send=before_send))

    assert seen == {"connected": True, "bytes_before_mark": b""}
    assert results[0].value.status == "published"
    # The one connection the listener accepts carried the post: the request used the open connection.
    assert b'"text": "Hi"' in raw_server.received


def test_a_connection_that_cannot_be_made_fails_the_post_before_the_mark():
    closed = socket.create_server(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()  # nothing listens there: the connection is refused
    account = slack_account(f"http://127.0.0.1:{port}/hook")
    marked = []

    results = list(publish_posts_in_turn(account_id=account.pk, posts=[ChannelPost(idempotency_key="k", text="Hi")],
                                         before_send=lambda index: marked.append(index) or True))

    assert marked == []
    assert isinstance(results[0], ProviderUnavailable)
    assert "could not connect" in str(results[0])


def test_a_withdrawn_post_sends_no_byte_on_its_open_connection(raw_server):
    account = slack_account(raw_server.url())

    results = list(publish_posts_in_turn(account_id=account.pk, posts=[ChannelPost(idempotency_key="k", text="Hi")],
                                         before_send=lambda index: False))

    assert raw_server.accepted.wait(timeout=5)
    assert raw_server.received == b""
    assert "withdrawn" in str(results[0])
