import threading
import time

import pytest
from werkzeug import Response

from gateways.adapters import bluesky

API_KEY = "sk-live-4f9c2b7d1e8a"


@pytest.fixture
def make_adapter(httpserver):
    """An adapter of `cls` pointed at the contract server, as a ProviderAccount would build it."""

    def make(cls, *, name="primary", settings=None, credentials=None, base_url=None, timeout=5.0):
        return cls(name=name, base_url=httpserver.url_for("") if base_url is None else base_url,
                   timeout=timeout, settings=settings or {}, credentials=credentials or {})

    return make


@pytest.fixture(autouse=True)
def forget_bluesky_sessions():
    bluesky._SESSIONS.clear()
    yield
    bluesky._SESSIONS.clear()


@pytest.fixture(autouse=True)
def strict_server(httpserver):
    """Every test's server must have seen exactly what it expected, and nothing else."""
    yield httpserver
    httpserver.check_assertions()


@pytest.fixture
def answers_late(httpserver):
    """Registers a path that answers only after the client gave up. At teardown the answer is
    released and the server has logged it, so it cannot bleed into the next test."""
    release = threading.Event()
    registered = []

    def register(path: str) -> str:
        registered.append(path)
        httpserver.expect_request(path).respond_with_handler(lambda request: release.wait(5) and Response("late"))
        return httpserver.url_for(path)

    yield register
    release.set()
    deadline = time.monotonic() + 5
    while len(httpserver.log) < len(registered) and time.monotonic() < deadline:
        time.sleep(0.01)
