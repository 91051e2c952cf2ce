import pytest
from pytest_httpserver import HTTPServer


@pytest.fixture
def httpserver():
    """A contract server of its own per test, answering requests in parallel (a slow answer to one
    request must not hold up a look-up made meanwhile, nor leak into the next test)."""
    server = HTTPServer(threaded=True)
    server.start()
    yield server
    server.clear()
    if server.is_running():
        server.stop()
