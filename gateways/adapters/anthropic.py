"""The Anthropic Messages API: `x-api-key`, `anthropic-version`, `max_tokens` always sent; structured
output through a single forced tool whose input schema is the request's schema.

Contract: gateways/testing/llm_contracts.py (sources named there)."""

from __future__ import annotations

from typing import Any

import requests

from gateways.adapters._http import HttpAdapterMixin
from gateways.adapters._llm import BUDGET_PARAMETER, PRICE_PARAMETERS, TextGenerationMixin, token_count
from gateways.capabilities import GeneratedText, TextGenerationAdapter, TextRequest, register
from gateways.errors import GatewayError, ProviderUnavailable
from gateways.http import provider_message, retry_after_seconds

API_VERSION = "2023-06-01"
OVERLOADED = 529  # Anthropic's own status: busy for everyone, not this account's limit


@register
class AnthropicMessagesAdapter(HttpAdapterMixin, TextGenerationMixin, TextGenerationAdapter):
    key = "anthropic_messages"
    label = "Anthropic"
    parameters = ("model", "anthropic_version", *PRICE_PARAMETERS, BUDGET_PARAMETER)
    secret_parameters = ("api_key",)
    default_base_url = "https://api.anthropic.com"
    credentials_advice = "Anthropic answers {status}: the API key is wrong, revoked or lacks access; update it."

    def http_headers(self) -> dict[str, str]:
        return {"x-api-key": self.credential("api_key"), "Content-Type": "application/json",
                "anthropic-version": str(self.settings.get("anthropic_version") or API_VERSION)}

    def http_error(self, response: requests.Response) -> GatewayError | None:
        if response.status_code == OVERLOADED:
            return ProviderUnavailable(f"Anthropic is overloaded: {provider_message(response)}",
                                       retry_after=retry_after_seconds(response, rate_limit_headers=False),
                                       advice="Anthropic is busy for every customer; the next provider is tried.")
        return None

    def generate(self, request: TextRequest) -> GeneratedText:
        model = self.model()
        body: dict[str, Any] = {"model": model, "max_tokens": request.max_tokens,
                                "messages": [{"role": "user", "content": request.prompt}]}
        if request.system:
            body["system"] = request.system
        if request.schema is not None:
            body["tools"] = [{"name": request.schema_name, "description": "Record the answer.",
                              "input_schema": request.schema}]
            body["tool_choice"] = {"type": "tool", "name": request.schema_name}
        # Asking twice costs tokens but does nothing else: a read timeout may be tried elsewhere.
        answer = self.http.request_json("POST", self.url("/v1/messages"), json=body, idempotent=True)
        blocks = [block for block in answer.get("content") or [] if isinstance(block, dict)]
        if answer.get("stop_reason") == "max_tokens" and request.schema is not None:
            raise self.unusable(f"the answer was cut off at {request.max_tokens} tokens")
        text = "".join(str(block.get("text") or "") for block in blocks if block.get("type") == "text")
        data = None
        if request.schema is not None:
            tool_use = next((block for block in blocks if block.get("type") == "tool_use"
                             and block.get("name") == request.schema_name), None)
            if tool_use is None:
                raise self.unusable("the answer does not use the answer tool")
            data = tool_use.get("input")
            if data is None:
                raise self.unusable("the answer tool was called without input")
        usage = answer.get("usage") or {}
        return self.result(request=request, model=str(answer.get("model") or model), text=text, raw=answer, data=data,
                           input_tokens=token_count(usage.get("input_tokens")),
                           output_tokens=token_count(usage.get("output_tokens")))

    def probe(self):
        def models() -> str:
            self.http.request("GET", self.url("/v1/models"), params={"limit": 1})
            return "API key accepted"

        return self.timed_probe(models)
