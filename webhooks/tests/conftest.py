import pytest
from django.core.cache import cache
from standardwebhooks import Webhook

from webhooks.services import subscription_create


@pytest.fixture(autouse=True)
def fresh_subscribed_events_cache():
    """Each test starts with no remembered subscriptions (the cache outlives a rolled-back test)."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def subscribe(db, httpserver):
    """A subscription of the given events pointing at the loopback receiver; returns it and its secret."""

    def make(*events: str, path: str = "/hook", name: str = "Receiver"):
        return subscription_create(name=name, url=httpserver.url_for(path), events=list(events))

    return make


def verified(request, secret: str) -> dict:
    """The body of a received request, after the independent standardwebhooks library checked its signature."""
    return Webhook(secret).verify(request.get_data(), dict(request.headers))
