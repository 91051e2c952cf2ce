"""Text generation through the chain: failover between real adapters on local contract servers,
the daily request budget, usage records, and honest readiness."""

import json
from decimal import Decimal

import pytest
from django.urls import reverse
from pytest_httpserver import HTTPServer

from gateways import services
from gateways.capabilities import Capability, TextRequest
from gateways.errors import NoProviderAvailable
from gateways.health import account_status
from gateways.models import HealthStatus, ProviderHealth, TextGenerationUsage
from gateways.readiness import capability_readiness
from gateways.testing import llm_contracts as contract

pytestmark = pytest.mark.django_db

KEY = "sk-test-9f8e7d6c5b4a"
SCHEMA = {"type": "object", "additionalProperties": False, "required": ["quality"],
          "properties": {"quality": {"type": "integer", "minimum": 0, "maximum": 100}}}
REQUEST = TextRequest(prompt="Score: Spring sale", schema=SCHEMA, schema_name="scores")


@pytest.fixture
def anthropic_server():
    server = HTTPServer(host="127.0.0.1", port=0)
    server.start()
    yield server
    server.clear()
    if server.is_running():
        server.stop()


def _openai(url: str, *, priority=1, name="openai", **settings):
    return services.account_create(capability=Capability.TEXT_GENERATION, adapter="openai_chat", name=name,
                                   priority=priority, base_url=url.rstrip("/"), timeout_seconds=2,
                                   credentials={"api_key": KEY}, settings={"model": "gpt-4o-mini", **settings})


def _anthropic(url: str, *, priority=2, **settings):
    return services.account_create(capability=Capability.TEXT_GENERATION, adapter="anthropic_messages",
                                   name="anthropic", priority=priority, base_url=url.rstrip("/"), timeout_seconds=2,
                                   credentials={"api_key": KEY}, settings={"model": "claude-3-5-haiku-latest",
                                                                           **settings})


def test_overloaded_first_provider_fails_over_to_the_next(httpserver, anthropic_server):
    anthropic_server.expect_request("/v1/messages").respond_with_json(contract.ANTHROPIC_OVERLOADED, status=529)
    httpserver.expect_request("/chat/completions").respond_with_json(
        contract.openai_completion(json.dumps({"quality": 64})))
    first = _anthropic(anthropic_server.url_for(""), priority=1)
    _openai(httpserver.url_for(""), priority=2)

    result = services.generate_text(request=REQUEST)

    assert (result.provider, result.value.data) == ("openai", {"quality": 64})
    assert result.attempts[0][0] == "anthropic" and "overloaded" in result.attempts[0][1]
    assert ProviderHealth.objects.get(pk=first.pk).consecutive_failures == 1


def test_an_answer_that_breaks_the_schema_moves_on_and_all_failing_is_an_error_not_a_result(httpserver,
                                                                                           anthropic_server):
    httpserver.expect_request("/chat/completions").respond_with_json(
        contract.openai_completion(json.dumps({"quality": "great"})))
    anthropic_server.expect_request("/v1/messages").respond_with_json(contract.ANTHROPIC_INVALID_KEY, status=401)
    _openai(httpserver.url_for(""))
    _anthropic(anthropic_server.url_for(""))

    with pytest.raises(NoProviderAvailable) as caught:
        services.generate_text(request=REQUEST)

    assert "does not follow the schema" in caught.value.message and "invalid x-api-key" in caught.value.message


def test_usage_and_cost_are_recorded_per_account_and_day(httpserver):
    httpserver.expect_request("/chat/completions").respond_with_json(
        contract.openai_completion(json.dumps({"quality": 50}), prompt_tokens=1000, completion_tokens=1000))
    account = _openai(httpserver.url_for(""), input_price_per_million="1", output_price_per_million="3")

    services.generate_text(request=REQUEST)
    services.generate_text(request=REQUEST)

    usage = TextGenerationUsage.objects.get(account=account)
    assert (usage.requests, usage.input_tokens, usage.output_tokens) == (2, 2000, 2000)
    assert usage.cost_estimate == Decimal("0.008")


def test_spent_budget_refuses_without_calling_and_is_no_failure(httpserver, anthropic_server):
    httpserver.expect_request("/chat/completions").respond_with_json(
        contract.openai_completion(json.dumps({"quality": 50})))
    anthropic_server.expect_request("/v1/messages").respond_with_json(contract.anthropic_message(
        [contract.anthropic_tool_use("scores", {"quality": 61})], stop_reason="tool_use"))
    budgeted = _openai(httpserver.url_for(""), daily_request_budget="1")
    _anthropic(anthropic_server.url_for(""))

    assert services.generate_text(request=REQUEST).provider == "openai"
    second = services.generate_text(request=REQUEST)

    assert (second.provider, second.value.data) == ("anthropic", {"quality": 61})
    assert len(httpserver.log) == 1, "the spent account was not called"
    assert second.attempts == [], "a refusal before any request is not an attempt"
    health = ProviderHealth.objects.get(pk=budgeted.pk)
    assert (health.failures, health.consecutive_failures) == (0, 0)
    assert TextGenerationUsage.objects.get(account=budgeted).requests == 1


def test_every_budget_spent_is_a_skip_that_says_why(httpserver):
    _openai(httpserver.url_for(""), daily_request_budget="0")
    result = services.generate_text(request=REQUEST)
    assert result.skipped and "budget of 0 requests is spent" in result.reason
    assert len(httpserver.log) == 0


def test_readiness_is_honest_about_placeholders_and_real_accounts(httpserver):
    assert not capability_readiness(Capability.TEXT_GENERATION).ready
    services.account_create(capability=Capability.TEXT_GENERATION, adapter="noop_text_generation",
                            name="Placeholder: no AI")

    placeholder_only = capability_readiness(Capability.TEXT_GENERATION)
    skipped = services.generate_text(request=REQUEST)

    assert not placeholder_only.ready and "does nothing real" in placeholder_only.reason
    assert skipped.skipped and skipped.value is None
    account = _openai(httpserver.url_for(""))
    assert capability_readiness(Capability.TEXT_GENERATION).ready
    assert account_status(account) == HealthStatus.UNKNOWN, "not called yet is not healthy"


def test_probe_lists_models(httpserver):
    httpserver.expect_request("/models", headers={"Authorization": f"Bearer {KEY}"}).respond_with_json(
        {"object": "list", "data": [{"id": "gpt-4o-mini", "object": "model"}]})
    outcome = services.account_probe(account=_openai(httpserver.url_for("")))
    assert outcome.ok


def test_provider_page_shows_todays_usage_against_the_budget(httpserver, login):
    httpserver.expect_request("/chat/completions").respond_with_json(
        contract.openai_completion(json.dumps({"quality": 50}), prompt_tokens=1000, completion_tokens=200))
    account = _openai(httpserver.url_for(""), daily_request_budget="50", input_price_per_million="2",
                      output_price_per_million="8")
    services.generate_text(request=REQUEST)

    page = login("Admin").get(reverse("gateways:provider-edit", args=[account.pk])).content.decode()

    assert "Today (UTC): 1 request of a daily budget of 50" in page
    assert "1000 tokens in, 200 out" in page and "estimated cost 0.0036" in page
