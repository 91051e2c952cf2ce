"""Knox tokens without reading every token of the user on every request: a user's other expired tokens
are swept at most once a minute per process, the token presented is checked every time."""

from datetime import timedelta

import pytest
from django.utils import timezone
from knox.models import AuthToken
from rest_framework.test import APIClient

from aicmo_site.api import authentication

pytestmark = pytest.mark.django_db


@pytest.fixture
def clock(monkeypatch):
    """time.monotonic of the authentication, moved by hand; no sweep remembered from another test."""
    now = [1_000.0]
    monkeypatch.setattr(authentication.time, "monotonic", lambda: now[0])
    monkeypatch.setattr(authentication.SweepingTokenAuthentication, "last_sweeps", {})
    return now


def expired(user) -> AuthToken:
    instance, _ = AuthToken.objects.create(user=user)
    AuthToken.objects.filter(pk=instance.pk).update(expiry=timezone.now() - timedelta(seconds=1))
    return instance


def client_with(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


def test_other_expired_tokens_are_swept_at_most_once_a_minute(make_user, clock):
    user = make_user("ana")
    client = client_with(AuthToken.objects.create(user=user)[1])
    first = expired(user)

    assert client.get("/api/auth/me/").status_code == 200
    assert not AuthToken.objects.filter(pk=first.pk).exists()

    second = expired(user)
    clock[0] += 59
    assert client.get("/api/auth/me/").status_code == 200
    assert AuthToken.objects.filter(pk=second.pk).exists()

    clock[0] += 1
    assert client.get("/api/auth/me/").status_code == 200
    assert not AuthToken.objects.filter(pk=second.pk).exists()


def test_the_token_presented_is_refused_and_deleted_once_expired_even_between_sweeps(make_user, clock):
    user = make_user("ben")
    instance, token = AuthToken.objects.create(user=user)
    client = client_with(token)
    assert client.get("/api/auth/me/").status_code == 200

    AuthToken.objects.filter(pk=instance.pk).update(expiry=timezone.now() - timedelta(seconds=1))
    assert client.get("/api/auth/me/").status_code == 401
    assert not AuthToken.objects.filter(pk=instance.pk).exists()


def test_the_sweeps_remembered_stay_bounded_by_the_users_of_the_last_minute(monkeypatch, clock):
    monkeypatch.setattr(authentication, "REMEMBERED_SWEEPS", 3)
    remember = authentication.SweepingTokenAuthentication._remember_sweep
    for user_id in (1, 2, 3):
        remember(user_id, clock[0])
    remember(4, clock[0] + 1)
    assert set(authentication.SweepingTokenAuthentication.last_sweeps) == {1, 2, 3, 4}

    remember(5, clock[0] + 60)
    assert authentication.SweepingTokenAuthentication.last_sweeps == {4: clock[0] + 1, 5: clock[0] + 60}
