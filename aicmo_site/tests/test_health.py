import pytest
from django_q.conf import Conf


@pytest.mark.django_db
def test_healthz_answers_200_when_database_and_broker_answer(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["ok"] is True
    assert body["checks"]["database"]["ok"] and body["checks"]["broker"]["ok"]


@pytest.mark.django_db
def test_healthz_answers_503_when_broker_is_unreachable(client, monkeypatch):
    monkeypatch.setattr(Conf, "ORM", None)
    monkeypatch.setattr(Conf, "REDIS", "redis://127.0.0.1:1/0")
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["checks"]["database"]["ok"] is True
    assert body["checks"]["broker"]["ok"] is False
    assert "Connection" in body["checks"]["broker"]["detail"]


@pytest.mark.django_db
def test_healthz_answers_503_when_database_fails(client, monkeypatch):
    from django.db import OperationalError

    from aicmo_site import health

    def broken():
        raise OperationalError("could not connect to server")

    monkeypatch.setattr(health, "_database", broken)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["checks"]["database"]["detail"].startswith("OperationalError")


@pytest.mark.django_db
def test_healthz_with_redis_broker(client, monkeypatch):
    """The Redis broker, as run for scale-out, is checked for real on the local Redis."""
    monkeypatch.setattr(Conf, "ORM", None)
    monkeypatch.setattr(Conf, "REDIS", "redis://127.0.0.1:6379/15")
    response = client.get("/healthz")
    assert response.status_code == 200, response.json()
    assert response.json()["checks"]["broker"]["detail"] == "Redis"
