"""What both text-generation adapters share: the account's model and prices, and the check that an
answer is the JSON its schema asks for (an answer that does not follow it is never passed on)."""

from __future__ import annotations

import json
from decimal import Decimal, InvalidOperation
from typing import Any, ClassVar

import jsonschema

from gateways.capabilities import GeneratedText, TextRequest
from gateways.errors import ProviderUnavailable

# Prices are per million tokens, as every vendor publishes them; an account sets its own because they change.
PRICE_PARAMETERS = ("input_price_per_million", "output_price_per_million")
# Requests this account may make per day (UTC); blank: no budget. Checked by gateways.services.text.
BUDGET_PARAMETER = "daily_request_budget"


class TextGenerationMixin:
    """Mixed into an HTTP text-generation adapter (which provides name, label, settings)."""

    default_model: ClassVar[str] = ""

    def model(self) -> str:
        model = str(self.settings.get("model") or self.default_model).strip()
        if not model:
            raise ProviderUnavailable(f"{self.label}: no model is set", provider=self.name,
                                      advice="Enter the model name in Provider accounts.")
        return model

    def cost_estimate(self, input_tokens: int, output_tokens: int) -> Decimal | None:
        prices = [self.settings.get(name) for name in PRICE_PARAMETERS]
        if all(price in (None, "") for price in prices):
            return None
        try:
            input_price, output_price = (Decimal(str(price or 0)) for price in prices)
        except InvalidOperation:
            return None
        return (input_price * input_tokens + output_price * output_tokens) / Decimal(1_000_000)

    def unusable(self, why: str) -> ProviderUnavailable:
        """The model answered, but not with what was asked: another provider may do better."""
        return ProviderUnavailable(f"{self.label}: {why}", provider=self.name,
                                   advice="The model did not follow the requested format; the next provider "
                                          "is tried, and a more capable model may help.")

    def structured(self, request: TextRequest, text: str, data: Any = None) -> dict | None:
        """The answer's JSON checked against the request's schema; None for a free-text request."""
        if request.schema is None:
            return None
        if data is None:
            try:
                data = json.loads(_without_code_fence(text))
            except ValueError:
                raise self.unusable("the answer is not valid JSON")
        if not isinstance(data, dict):
            raise self.unusable("the answer is JSON but not an object")
        try:
            jsonschema.validate(data, request.schema)
        except jsonschema.ValidationError as exc:
            where = "/".join(str(part) for part in exc.absolute_path) or "the answer"
            raise self.unusable(f"the answer does not follow the schema ({where}: {exc.message[:200]})")
        return data

    def result(self, *, request: TextRequest, model: str, text: str, input_tokens: int, output_tokens: int,
               raw: dict, data: Any = None) -> GeneratedText:
        return GeneratedText(provider=self.name, model=model, text=text, data=self.structured(request, text, data),
                             input_tokens=input_tokens, output_tokens=output_tokens,
                             cost_estimate=self.cost_estimate(input_tokens, output_tokens), raw=raw)


def _without_code_fence(text: str) -> str:
    """Self-hosted models asked for JSON without a schema mode often wrap it in a Markdown fence."""
    stripped = text.strip()
    if stripped.startswith("```"):
        stripped = stripped.split("\n", 1)[1] if "\n" in stripped else ""
        stripped = stripped.rsplit("```", 1)[0]
    return stripped


def token_count(value: Any) -> int:
    return value if isinstance(value, int) and value >= 0 else 0
