"""Text generation through the chain, with each account's daily request budget and usage."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from gateways.adapters._llm import BUDGET_PARAMETER
from gateways.capabilities import Capability, GeneratedText, TextGenerationAdapter, TextRequest
from gateways.chain import ChainResult, chain_run, current_account
from gateways.errors import BudgetSpent, ProviderUnavailable
from gateways.models import ProviderAccount, TextGenerationUsage


def daily_budget(account: ProviderAccount) -> int | None:
    value = (account.settings or {}).get(BUDGET_PARAMETER)
    if value in (None, ""):
        return None
    try:
        budget = int(str(value).strip())
    except ValueError:
        budget = -1
    if budget < 0:
        raise ProviderUnavailable(f"the daily request budget {value!r} is not a whole number", provider=account.name,
                                  advice="Set the daily request budget to a whole number, or leave it blank.")
    return budget


def _usage_row(account: ProviderAccount) -> TextGenerationUsage:
    day = timezone.now().date()
    try:
        with transaction.atomic():
            return TextGenerationUsage.objects.get_or_create(account=account, day=day)[0]
    except IntegrityError:  # another process made today's row between our read and insert
        return TextGenerationUsage.objects.get(account=account, day=day)


def _reserve_request(account: ProviderAccount) -> TextGenerationUsage:
    """Count the request before it is sent, in one conditional UPDATE, so concurrent workers never
    go over the budget together."""
    budget = daily_budget(account)
    row = _usage_row(account)
    rows = TextGenerationUsage.objects.filter(pk=row.pk)
    if budget is not None:
        rows = rows.filter(requests__lt=budget)
    if not rows.update(requests=F("requests") + 1):
        raise BudgetSpent(f"today's budget of {budget} requests is spent", provider=account.name,
                          advice="Raise the daily request budget in Provider accounts, or wait until tomorrow (UTC).")
    return row


def _record_usage(row: TextGenerationUsage, generated: GeneratedText) -> None:
    TextGenerationUsage.objects.filter(pk=row.pk).update(
        input_tokens=F("input_tokens") + generated.input_tokens,
        output_tokens=F("output_tokens") + generated.output_tokens,
        cost_estimate=F("cost_estimate") + (generated.cost_estimate or 0),
    )


def _generate_within_budget(adapter: TextGenerationAdapter, request: TextRequest) -> GeneratedText:
    account = current_account()
    row = _reserve_request(account) if account is not None else None
    generated = adapter.generate(request)
    if row is not None:
        _record_usage(row, generated)
    return generated


def generate_text(*, request: TextRequest) -> ChainResult:
    """The first text-generation account that answers as asked; `skipped` when none is configured (or
    every budget is spent) and nothing was asked of anyone. Raises NoProviderAvailable when all failed."""
    return chain_run(capability=Capability.TEXT_GENERATION,
                     operation=lambda adapter: _generate_within_budget(adapter, request))
