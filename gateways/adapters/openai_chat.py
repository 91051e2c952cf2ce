"""The OpenAI Chat Completions API, and everything that speaks it: OpenAI itself, Azure OpenAI (a
deployment URL and an `api-key` header) and self-hosted servers (Ollama, vLLM, LM Studio), whose
address is the account's base URL and goes through the same address guard as every other.

Contract: gateways/testing/llm_contracts.py (sources named there)."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

import requests

from gateways.adapters._http import HttpAdapterMixin
from gateways.adapters._llm import BUDGET_PARAMETER, PRICE_PARAMETERS, TextGenerationMixin, token_count
from gateways.capabilities import GeneratedText, TextGenerationAdapter, TextRequest, register
from gateways.errors import GatewayError, ProviderRejected, ProviderUnavailable, RateLimited
from gateways.http import retry_after_seconds

# structured_output: json_schema (OpenAI, Azure, recent vLLM and Ollama), json_object (servers that only
# promise JSON: the schema goes in the prompt) or none (the prompt alone asks for JSON).
STRUCTURED_MODES = ("json_schema", "json_object", "none")
AZURE_API_VERSION = "2024-10-21"


@register
class OpenAIChatAdapter(HttpAdapterMixin, TextGenerationMixin, TextGenerationAdapter):
    key = "openai_chat"
    label = "OpenAI-compatible chat"
    parameters = ("model", "azure_deployment", "azure_api_version", "structured_output", "max_tokens_field",
                  *PRICE_PARAMETERS, BUDGET_PARAMETER)
    secret_parameters = ("api_key",)  # optional for a self-hosted server
    default_base_url = "https://api.openai.com/v1"
    credentials_advice = "The chat API answers {status}: the API key is wrong, revoked or lacks access; update it."

    @property
    def azure(self) -> bool:
        return bool(str(self.settings.get("azure_deployment") or "").strip())

    def http_headers(self) -> dict[str, str]:
        headers = {"Content-Type": "application/json"}
        key = str(self.credentials.get("api_key") or "").strip()
        if self.azure:
            headers["api-key"] = self.credential("api_key")
        elif key:
            headers["Authorization"] = f"Bearer {key}"
        return headers

    def http_error(self, response: requests.Response) -> GatewayError | None:
        if response.status_code == 429:
            # OpenAI also says it in milliseconds; the seconds header is rounded up to whole seconds.
            millis = response.headers.get("retry-after-ms")
            retry_after = float(millis) / 1000 if millis and millis.replace(".", "", 1).isdigit() else (
                retry_after_seconds(response))
            error = _error_body(response)
            if error.get("code") == "insufficient_quota":
                # Sent as a 429, but waiting does not end it: not a rate limit to come back after.
                return ProviderUnavailable(f"{self.label}: the account's quota is used up",
                                           advice="Add credit with the provider; until then the next provider "
                                                  "is used.")
            return None if millis is None else RateLimited(
                f"{self.label} answered 429: {error.get('message') or 'rate limit reached'}", retry_after=retry_after,
                advice=f"{self.label} asks us to slow down; lower this account's rate limit if it keeps happening.")
        return None

    def structured_mode(self) -> str:
        mode = str(self.settings.get("structured_output") or "json_schema").strip()
        if mode not in STRUCTURED_MODES:
            raise ProviderUnavailable(f"{self.label}: structured output {mode!r} is not one of "
                                      f"{', '.join(STRUCTURED_MODES)}", provider=self.name,
                                      advice="Correct the structured output setting in Provider accounts.")
        return mode

    def endpoint(self, path: str) -> str:
        if self.azure:
            deployment = quote(str(self.settings["azure_deployment"]).strip(), safe="")
            version = str(self.settings.get("azure_api_version") or AZURE_API_VERSION)
            return self.url(f"/openai/deployments/{deployment}{path}?api-version={quote(version)}")
        return self.url(path)

    def generate(self, request: TextRequest) -> GeneratedText:
        model = "" if self.azure else self.model()
        body: dict[str, Any] = {"messages": self._messages(request)}
        if model:
            body["model"] = model
        body[str(self.settings.get("max_tokens_field") or "max_tokens")] = request.max_tokens
        mode = self.structured_mode()
        if request.schema is not None and mode == "json_schema":
            body["response_format"] = {"type": "json_schema", "json_schema": {
                "name": request.schema_name, "schema": request.schema, "strict": True}}
        elif request.schema is not None and mode == "json_object":
            body["response_format"] = {"type": "json_object"}
        # Asking twice costs tokens but does nothing else: a read timeout may be tried elsewhere.
        answer = self.http.request_json("POST", self.endpoint("/chat/completions"), json=body, idempotent=True)
        choices = answer.get("choices")
        if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
            raise self.unusable("the answer has no choices")
        message = choices[0].get("message") or {}
        if message.get("refusal"):
            raise ProviderRejected(f"{self.label}: the model refused: {str(message['refusal'])[:300]}",
                                   provider=self.name, advice="Change the content or the prompt.")
        if choices[0].get("finish_reason") == "length" and request.schema is not None:
            raise self.unusable(f"the answer was cut off at {request.max_tokens} tokens")
        text = message.get("content")
        if not isinstance(text, str):
            raise self.unusable("the answer has no text")
        usage = answer.get("usage") or {}
        return self.result(request=request, model=str(answer.get("model") or model), text=text, raw=answer,
                           input_tokens=token_count(usage.get("prompt_tokens")),
                           output_tokens=token_count(usage.get("completion_tokens")))

    def _messages(self, request: TextRequest) -> list[dict[str, str]]:
        system = request.system
        if request.schema is not None and self.structured_mode() != "json_schema":
            system = (f"{system}\n\n" if system else "") + (
                "Answer with one JSON object only, following this JSON Schema:\n" + json.dumps(request.schema))
        messages = [{"role": "system", "content": system}] if system else []
        return [*messages, {"role": "user", "content": request.prompt}]

    def probe(self):
        def models() -> str:
            if self.azure:
                version = quote(str(self.settings.get("azure_api_version") or AZURE_API_VERSION))
                self.http.request("GET", self.url(f"/openai/models?api-version={version}"))
            else:
                self.http.request("GET", self.url("/models"))
            return "API key accepted" if self.credentials.get("api_key") else "the server answers"

        return self.timed_probe(models)


def _error_body(response: requests.Response) -> dict:
    try:
        body = response.json()
    except ValueError:
        return {}
    error = body.get("error") if isinstance(body, dict) else None
    return error if isinstance(error, dict) else {}
