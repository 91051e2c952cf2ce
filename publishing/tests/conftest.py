import pytest
from pytest_httpserver import HTTPServer

from aicmo_site.roles import MARKETER


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


@pytest.fixture(autouse=True)
def dispatch_in_the_test_thread(settings):
    """Posting threads have database connections of their own, which cannot see a test's uncommitted
    rows; tests with real workers run the default thread pool."""
    settings.PUBLISHING_DISPATCH_THREADS = 1


@pytest.fixture
def marketer_client(client, make_user):
    """A client signed in as a marketer; the user is at client.user."""
    user = make_user("writer", role=MARKETER)
    client.force_login(user)
    client.user = user
    return client
