"""API rate limits counted in fixed windows: past the rate a client gets DRF's 429 with Retry-After (the
seconds left in the window) until the next window, and a request costs one round trip to Redis."""

import uuid

import pytest
import redis
from django.contrib.auth.models import AnonymousUser
from django.core.cache import cache
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from aicmo_site.api import throttling

pytestmark = pytest.mark.django_db

# 1,000,020 is a multiple of 60: a minute's window starts there and ends at 1,000,080.
WINDOW_START = 1_000_020.0


@pytest.fixture
def clock(monkeypatch):
    """The throttles' time.time, moved by hand; no count left from another test (in the local cache)."""
    now = [WINDOW_START + 30.2]
    monkeypatch.setattr(throttling.FixedWindowRateThrottle, "timer", lambda self: now[0])
    cache.clear()
    return now


@pytest.fixture
def rates(settings):
    def set_rates(**rates):
        settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {
            **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], **rates}}
    return set_rates


def test_a_user_past_the_rate_waits_for_the_next_window(api_as, clock, rates):
    rates(user="3/minute")
    api = api_as("Analyst")
    assert [api.get("/api/auth/me/").status_code for _ in range(3)] == [200, 200, 200]

    refused = api.get("/api/auth/me/")
    assert refused.status_code == 429
    # 29.8 s left in the window, rounded up as DRF does.
    assert refused["Retry-After"] == "30"
    assert refused.json()["code"] == "throttled" and refused.json()["extra"] == {"wait_seconds": 30}

    clock[0] = WINDOW_START + 59.9
    assert api.get("/api/auth/me/").status_code == 429
    clock[0] = WINDOW_START + 60
    assert api.get("/api/auth/me/").status_code == 200


def test_one_users_count_leaves_another_user_alone(api_as, clock, rates):
    rates(user="2/minute")
    first, second = api_as("Analyst", "first"), api_as("Analyst", "second")
    assert [first.get("/api/auth/me/").status_code for _ in range(3)] == [200, 200, 429]
    assert second.get("/api/auth/me/").status_code == 200


def test_log_ins_past_their_rate_get_a_429(api_client, make_user, clock, rates):
    rates(login="2/minute")
    make_user("lou", password="right-password-1")
    answers = [api_client.post("/api/auth/token/", {"username": "lou", "password": "right-password-1"}).status_code
               for _ in range(3)]
    assert answers == [201, 201, 429]


def test_anonymous_clients_are_counted_by_address(clock, rates):
    rates(anon="1/minute")
    factory = APIRequestFactory()

    def allowed(address: str) -> bool:
        request = Request(factory.get("/api/schema/", REMOTE_ADDR=address))
        request.user = AnonymousUser()
        return throttling.AnonRateThrottle().allow_request(request, None)

    assert [allowed("203.0.113.9"), allowed("203.0.113.9"), allowed("198.51.100.7")] == [True, False, True]


def test_a_request_costs_one_round_trip_to_redis(api_as, clock, rates, settings, monkeypatch):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                                   "LOCATION": "redis://127.0.0.1:6379/14", "KEY_PREFIX": uuid.uuid4().hex}}
    rates(user="3/minute")
    sent = []
    send = redis.connection.AbstractConnection.send_packed_command
    monkeypatch.setattr(redis.connection.AbstractConnection, "send_packed_command",
                        lambda connection, command, *args, **kwargs: (sent.append(command),
                                                                      send(connection, command, *args, **kwargs))[1])
    api = api_as("Analyst")
    counter = f"throttle_user_{api.user.pk}_{int(WINDOW_START // 60)}"
    try:
        assert api.get("/api/auth/me/").status_code == 200  # connected to Redis
        sent.clear()
        assert [api.get("/api/auth/me/").status_code for _ in range(3)] == [200, 200, 429]
        assert len(sent) == 3
        # The counter is what Django's cache reads as an int.
        assert cache.get(counter) == 4
    finally:
        cache.delete(counter)  # Redis is shared: this test's own key only, never a flush
