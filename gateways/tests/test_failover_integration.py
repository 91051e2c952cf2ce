"""The issue's "done when": a dead primary and a working secondary, both real Apollo adapters
speaking the documented contract to local HTTP servers."""

import io
import json
import socket
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone
from pytest_httpserver import HTTPServer

from gateways import services
from gateways.capabilities import Capability, PersonQuery
from gateways.models import BreakerState, ProviderHealth

pytestmark = pytest.mark.django_db

API_KEY = "apollo-key-for-tests"
MATCH = {"person": {"id": "64a7ff0cc4dfae00013df1a5", "first_name": "Tim", "last_name": "Zheng", "name": "Tim Zheng",
                    "title": "Founder & CEO", "email": "tim@apollo.io", "email_status": "verified",
                    "organization": {"name": "Apollo.io", "primary_domain": "apollo.io"}}}
PEOPLE = [PersonQuery(ref="42", first_name="Tim", last_name="Zheng", domain="apollo.io")]


@pytest.fixture
def breaker(settings):
    settings.GATEWAYS_BREAKER_THRESHOLD = 2
    settings.GATEWAYS_BREAKER_COOLDOWN_SECONDS = 60


@pytest.fixture
def primary_server():
    server = HTTPServer(host="127.0.0.1", port=0)
    server.start()
    yield server
    server.clear()
    if server.is_running():
        server.stop()


def _apollo(name: str, url: str, priority: int):
    return services.account_create(capability=Capability.LEAD_ENRICHMENT, adapter="apollo", name=name,
                                   priority=priority, base_url=url.rstrip("/"), timeout_seconds=2,
                                   credentials={"api_key": API_KEY})


def _closed_port_url() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def _self_check_status() -> dict:
    out = io.StringIO()
    call_command("self_check", "--status", "--json", stdout=out)
    return json.loads(out.getvalue())


def _provider(document: dict, name: str) -> dict:
    return next(p for c in document["capabilities"] for p in c["providers"] if p["name"] == name)


def test_dead_primary_delivers_through_secondary_and_is_used_again_after_recovery(breaker, primary_server,
                                                                                  httpserver):
    primary_server.expect_request("/people/match", method="POST").respond_with_json(
        {"error": "upstream unavailable"}, status=503)
    httpserver.expect_request("/people/match", method="POST", headers={"x-api-key": API_KEY}).respond_with_json(MATCH)
    primary = _apollo("apollo-primary", primary_server.url_for(""), 1)
    _apollo("apollo-secondary", httpserver.url_for(""), 2)

    results = [services.enrich_people(PEOPLE) for _ in range(2)]

    assert [r.provider for r in results] == ["apollo-secondary"] * 2
    assert results[0].value[0].fields["job_title"] == "Founder & CEO"
    assert results[0].attempts[0][0] == "apollo-primary" and "503" in results[0].attempts[0][1]
    document = _self_check_status()
    shown = _provider(document, "apollo-primary")
    assert shown["status"] == "down" and shown["breaker"] == BreakerState.OPEN
    assert "503" in shown["last_error"] and shown["advice"]
    assert _provider(document, "apollo-secondary")["status"] == "healthy"
    assert document["ok"] is True, "the capability still has a healthy provider"

    calls_to_primary = len(primary_server.log)
    assert services.enrich_people(PEOPLE).provider == "apollo-secondary"
    assert len(primary_server.log) == calls_to_primary, "an open breaker keeps calls away from the primary"

    primary_server.clear()
    primary_server.expect_request("/people/match", method="POST").respond_with_json(MATCH)
    # The cool-down is a minute; moving its end into the past stands for the minute passing.
    ProviderHealth.objects.filter(pk=primary.pk).update(open_until=timezone.now() - timedelta(seconds=1))

    recovered = services.enrich_people(PEOPLE)

    assert recovered.provider == "apollo-primary"
    assert ProviderHealth.objects.get(pk=primary.pk).breaker_state == BreakerState.CLOSED
    assert _provider(_self_check_status(), "apollo-primary")["status"] == "degraded", "recovering, not yet trusted"


def test_primary_on_a_closed_port_fails_over_with_connection_advice(breaker, httpserver):
    httpserver.expect_request("/people/match", method="POST").respond_with_json(MATCH)
    _apollo("apollo-primary", _closed_port_url(), 1)
    _apollo("apollo-secondary", httpserver.url_for(""), 2)

    result = services.enrich_people(PEOPLE)

    assert result.provider == "apollo-secondary"
    shown = _provider(_self_check_status(), "apollo-primary")
    assert "could not connect" in shown["last_error"]
    assert "unreachable" in shown["advice"]
