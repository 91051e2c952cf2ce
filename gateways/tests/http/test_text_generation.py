"""Both text-generation adapters against a local server replaying their documented contracts
(gateways/testing/llm_contracts.py)."""

import json
from decimal import Decimal

import pytest

from gateways.adapters.anthropic import AnthropicMessagesAdapter
from gateways.adapters.openai_chat import OpenAIChatAdapter
from gateways.capabilities import TextRequest
from gateways.errors import OutcomeUnknown, ProviderRejected, ProviderUnavailable, RateLimited
from gateways.testing import llm_contracts as contract

from .conftest import API_KEY

SCHEMA = {"type": "object", "additionalProperties": False, "required": ["quality", "reasons"],
          "properties": {"quality": {"type": "integer", "minimum": 0, "maximum": 100},
                         "reasons": {"type": "array", "items": {"type": "string"}}}}
SCORED = {"quality": 72, "reasons": ["Clear call to action"]}


def scoring_request(**changes) -> TextRequest:
    return TextRequest(**{"prompt": "Score this post: Spring sale!", "system": "You review marketing copy.",
                          "schema": SCHEMA, "schema_name": "content_scores", "max_tokens": 400, **changes})


# ---- OpenAI-compatible ----------------------------------------------------------------------


@pytest.fixture
def openai(make_adapter):
    return make_adapter(OpenAIChatAdapter, credentials={"api_key": API_KEY},
                        settings={"model": "gpt-4o-mini", "input_price_per_million": "0.15",
                                  "output_price_per_million": "0.60"})


def test_openai_asks_for_the_schema_and_returns_validated_json_with_usage_and_cost(openai, httpserver):
    httpserver.expect_oneshot_request(
        "/chat/completions", method="POST",
        headers={"Authorization": f"Bearer {API_KEY}", "Content-Type": "application/json"},
        json={"model": "gpt-4o-mini", "max_tokens": 400,
              "messages": [{"role": "system", "content": "You review marketing copy."},
                           {"role": "user", "content": "Score this post: Spring sale!"}],
              "response_format": {"type": "json_schema", "json_schema": {
                  "name": "content_scores", "schema": SCHEMA, "strict": True}}},
    ).respond_with_json(contract.openai_completion(json.dumps(SCORED), prompt_tokens=1000, completion_tokens=500))

    generated = openai.generate(scoring_request())

    assert generated.data == SCORED
    assert (generated.input_tokens, generated.output_tokens) == (1000, 500)
    assert generated.cost_estimate == Decimal("0.00045")  # 1000 x 0.15 + 500 x 0.60, per million
    assert generated.model == contract.OPENAI_MODEL


def test_azure_uses_the_deployment_url_and_api_key_header(make_adapter, httpserver):
    adapter = make_adapter(OpenAIChatAdapter, credentials={"api_key": API_KEY},
                           settings={"azure_deployment": "copy-review", "azure_api_version": "2024-10-21"})
    httpserver.expect_oneshot_request("/openai/deployments/copy-review/chat/completions", method="POST",
                                      query_string="api-version=2024-10-21", headers={"api-key": API_KEY}) \
        .respond_with_json(contract.openai_completion("Fine."))
    generated = adapter.generate(TextRequest(prompt="Say fine."))
    assert generated.text == "Fine."
    assert "Authorization" not in httpserver.log[0][0].headers
    assert generated.cost_estimate is None  # no prices set: no made-up cost


def test_self_hosted_server_without_key_and_json_object_mode_gets_the_schema_in_the_prompt(make_adapter, httpserver):
    adapter = make_adapter(OpenAIChatAdapter, settings={"model": "llama3.1", "structured_output": "json_object"})
    httpserver.expect_oneshot_request("/chat/completions", method="POST") \
        .respond_with_json(contract.openai_completion("```json\n" + json.dumps(SCORED) + "\n```", model="llama3.1"))
    assert adapter.generate(scoring_request()).data == SCORED
    sent = httpserver.log[0][0]
    body = sent.get_json()
    assert "Authorization" not in sent.headers
    assert body["response_format"] == {"type": "json_object"}
    assert json.dumps(SCHEMA) in body["messages"][0]["content"]


@pytest.mark.parametrize(("base_url", "reason"), [
    ("http://192.168.1.20:11434/v1", "private"),
    ("http://169.254.169.254/v1", "cloud metadata"),
    ("http://{loopback}/v1", "loopback"),
])
def test_a_self_hosted_server_at_an_internal_address_is_refused_unless_allowed(make_adapter, httpserver, settings,
                                                                                 base_url, reason):
    """The base URL is a URL a user types: with private addresses not allowed (production), an Ollama or vLLM
    address on the internal network is refused before connecting, as for every other provider, until an
    administrator allows that exact endpoint."""
    settings.GATEWAYS_ALLOW_PRIVATE_ADDRESSES = False
    settings.GATEWAYS_ALLOWED_ENDPOINTS = []
    loopback = f"127.0.0.1:{httpserver.port}"
    adapter = make_adapter(OpenAIChatAdapter, settings={"model": "llama3.1"},
                           base_url=base_url.format(loopback=loopback), timeout=1.0)
    with pytest.raises(ProviderUnavailable) as caught:
        adapter.generate(TextRequest(prompt="Say fine."))
    assert f"({reason})" in caught.value.message and httpserver.log == []

    if reason == "loopback":
        settings.GATEWAYS_ALLOWED_ENDPOINTS = [loopback]
        httpserver.expect_oneshot_request("/v1/chat/completions", method="POST") \
            .respond_with_json(contract.openai_completion("Fine.", model="llama3.1"))
        assert adapter.generate(TextRequest(prompt="Say fine.")).text == "Fine."


def test_openai_answer_that_is_not_json_is_unusable(openai, httpserver):
    httpserver.expect_request("/chat/completions").respond_with_json(contract.openai_completion("Quality: 72/100"))
    with pytest.raises(ProviderUnavailable, match="not valid JSON"):
        openai.generate(scoring_request())


def test_openai_answer_that_breaks_the_schema_is_unusable_never_a_score(openai, httpserver):
    httpserver.expect_request("/chat/completions").respond_with_json(
        contract.openai_completion(json.dumps({"quality": 140, "reasons": []})))
    with pytest.raises(ProviderUnavailable, match="does not follow the schema.*quality"):
        openai.generate(scoring_request())


def test_openai_answer_cut_at_max_tokens_is_unusable(openai, httpserver):
    httpserver.expect_request("/chat/completions").respond_with_json(
        contract.openai_completion('{"quality": 7', finish_reason="length"))
    with pytest.raises(ProviderUnavailable, match="cut off at 400 tokens"):
        openai.generate(scoring_request())


def test_openai_refusal_is_a_rejection_of_the_input(openai, httpserver):
    httpserver.expect_request("/chat/completions").respond_with_json(
        contract.openai_completion(None, refusal="I can't help with that."))
    with pytest.raises(ProviderRejected, match="refused"):
        openai.generate(scoring_request())


def test_openai_wrong_key_is_unavailable_with_advice_and_no_key_in_the_message(openai, httpserver):
    httpserver.expect_request("/chat/completions").respond_with_json(contract.OPENAI_INVALID_KEY, status=401)
    with pytest.raises(ProviderUnavailable) as caught:
        openai.generate(scoring_request())
    assert caught.value.status == 401
    assert "API key is wrong" in caught.value.advice
    assert API_KEY not in str(caught.value)


@pytest.mark.parametrize(("headers", "expected"), [({"retry-after": "20"}, 20.0),
                                                   ({"retry-after": "1", "retry-after-ms": "350"}, 0.35)])
def test_openai_429_says_when_to_come_back(openai, httpserver, headers, expected):
    httpserver.expect_request("/chat/completions").respond_with_json(contract.OPENAI_RATE_LIMITED, status=429,
                                                                     headers=headers)
    with pytest.raises(RateLimited) as caught:
        openai.generate(scoring_request())
    assert caught.value.retry_after == pytest.approx(expected)


def test_openai_spent_quota_is_named_and_is_no_rate_limit_to_wait_for(openai, httpserver):
    httpserver.expect_request("/chat/completions").respond_with_json(contract.OPENAI_QUOTA, status=429)
    with pytest.raises(ProviderUnavailable, match="quota is used up") as caught:
        openai.generate(scoring_request())
    assert not isinstance(caught.value, RateLimited) and "Add credit" in caught.value.advice


def test_openai_server_error_is_unavailable(openai, httpserver):
    httpserver.expect_request("/chat/completions").respond_with_json(contract.OPENAI_SERVER_ERROR, status=503)
    with pytest.raises(ProviderUnavailable, match="503"):
        openai.generate(scoring_request())


def test_openai_timeout_is_unavailable_not_unknown_since_asking_again_is_harmless(make_adapter, answers_late):
    answers_late("/chat/completions")
    adapter = make_adapter(OpenAIChatAdapter, settings={"model": "gpt-4o-mini"}, timeout=0.2)
    with pytest.raises(ProviderUnavailable) as caught:
        adapter.generate(scoring_request())
    assert not isinstance(caught.value, OutcomeUnknown)


# ---- Anthropic ------------------------------------------------------------------------------

ANTHROPIC_HEADERS = {"x-api-key": API_KEY, "anthropic-version": "2023-06-01", "Content-Type": "application/json"}


@pytest.fixture
def anthropic(make_adapter):
    return make_adapter(AnthropicMessagesAdapter, credentials={"api_key": API_KEY},
                        settings={"model": "claude-3-5-haiku-latest", "input_price_per_million": "0.80",
                                  "output_price_per_million": "4"})


def test_anthropic_forces_the_answer_tool_and_returns_its_validated_input(anthropic, httpserver):
    httpserver.expect_oneshot_request("/v1/messages", method="POST", headers=ANTHROPIC_HEADERS, json={
        "model": "claude-3-5-haiku-latest", "max_tokens": 400, "system": "You review marketing copy.",
        "messages": [{"role": "user", "content": "Score this post: Spring sale!"}],
        "tools": [{"name": "content_scores", "description": "Record the answer.", "input_schema": SCHEMA}],
        "tool_choice": {"type": "tool", "name": "content_scores"},
    }).respond_with_json(contract.anthropic_message([contract.anthropic_tool_use("content_scores", SCORED)],
                                                    stop_reason="tool_use", input_tokens=2000, output_tokens=100))

    generated = anthropic.generate(scoring_request())

    assert generated.data == SCORED
    assert (generated.input_tokens, generated.output_tokens) == (2000, 100)
    assert generated.cost_estimate == Decimal("0.002")  # 2000 x 0.80 + 100 x 4, per million


def test_anthropic_free_text(anthropic, httpserver):
    httpserver.expect_oneshot_request("/v1/messages", method="POST").respond_with_json(
        contract.anthropic_message([{"type": "text", "text": "Hello"}, {"type": "text", "text": " there"}]))
    assert anthropic.generate(TextRequest(prompt="Greet")).text == "Hello there"


def test_anthropic_answer_without_the_tool_is_unusable(anthropic, httpserver):
    httpserver.expect_request("/v1/messages").respond_with_json(
        contract.anthropic_message([{"type": "text", "text": '{"quality": 72'}]))
    with pytest.raises(ProviderUnavailable, match="does not use the answer tool"):
        anthropic.generate(scoring_request())


def test_anthropic_tool_input_that_breaks_the_schema_is_unusable(anthropic, httpserver):
    httpserver.expect_request("/v1/messages").respond_with_json(contract.anthropic_message(
        [contract.anthropic_tool_use("content_scores", {"quality": "high", "reasons": []})], stop_reason="tool_use"))
    with pytest.raises(ProviderUnavailable, match="does not follow the schema"):
        anthropic.generate(scoring_request())


def test_anthropic_wrong_key_is_unavailable(anthropic, httpserver):
    httpserver.expect_request("/v1/messages").respond_with_json(contract.ANTHROPIC_INVALID_KEY, status=401)
    with pytest.raises(ProviderUnavailable, match="invalid x-api-key") as caught:
        anthropic.generate(scoring_request())
    assert "API key is wrong" in caught.value.advice


def test_anthropic_429_honours_retry_after(anthropic, httpserver):
    httpserver.expect_request("/v1/messages").respond_with_json(contract.ANTHROPIC_RATE_LIMITED, status=429,
                                                                headers={"retry-after": "12"})
    with pytest.raises(RateLimited) as caught:
        anthropic.generate(scoring_request())
    assert caught.value.retry_after == 12.0


def test_anthropic_529_overloaded_is_unavailable_and_named(anthropic, httpserver):
    httpserver.expect_request("/v1/messages").respond_with_json(contract.ANTHROPIC_OVERLOADED, status=529)
    with pytest.raises(ProviderUnavailable, match="overloaded") as caught:
        anthropic.generate(scoring_request())
    assert not isinstance(caught.value, RateLimited)
    assert caught.value.status == 529


def test_anthropic_500_is_unavailable(anthropic, httpserver):
    httpserver.expect_request("/v1/messages").respond_with_json(contract.ANTHROPIC_API_ERROR, status=500)
    with pytest.raises(ProviderUnavailable, match="500"):
        anthropic.generate(scoring_request())


def test_anthropic_timeout_is_unavailable(make_adapter, answers_late):
    answers_late("/v1/messages")
    adapter = make_adapter(AnthropicMessagesAdapter, credentials={"api_key": API_KEY},
                           settings={"model": "claude-3-5-haiku-latest"}, timeout=0.2)
    with pytest.raises(ProviderUnavailable) as caught:
        adapter.generate(scoring_request())
    assert not isinstance(caught.value, OutcomeUnknown)
