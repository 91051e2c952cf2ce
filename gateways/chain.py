"""Failover over a capability's accounts, and single-account calls, with health recorded.

- ProviderUnavailable (and RateLimited) move on to the next account.
- ProviderRejected comes straight back: the input is bad, another provider would refuse it too.
- OutcomeUnknown comes straight back: the call may have taken effect, trying elsewhere could do it twice.
- An unexpected exception inside an adapter is treated as OutcomeUnknown for the same reason.
"""

import copy
import json
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings

from aicmo_site.errors import DomainError
from aicmo_site.wording import with_article
from gateways import conf, health, ratelimit
from gateways.capabilities import Adapter
from gateways.crypto import CredentialsUnreadable
from gateways.errors import (
    CallRefused,
    GatewayError,
    NoProviderAvailable,
    NoProviderConfigured,
    OutcomeUnknown,
    ProviderRejected,
    ProviderSkipped,
    ProviderUnavailable,
    RateLimited,
)
from gateways.models import BreakerState, ProviderAccount, ProviderHealth

logger = logging.getLogger("gateways")

Operation = Callable[[Adapter], Any]
_current_account: ContextVar[ProviderAccount | None] = ContextVar("gateways_current_account", default=None)
_adapters = threading.local()
# Enough for every account a worker posts to; the least recently used adapter goes first.
ADAPTERS_PER_THREAD = 64


@dataclass
class ChainResult:
    value: Any = None
    account_id: int | None = None
    provider: str = ""
    skipped: bool = False
    reason: str = ""
    attempts: list[tuple[str, str]] = field(default_factory=list)


def current_account() -> ProviderAccount | None:
    """The account whose operation is running (inside `call_account`), for work an operation does
    around its request (counting it against the account's budget)."""
    return _current_account.get()


def _elapsed_ms(started: float) -> float:
    return (time.monotonic() - started) * 1000


def _fill_in(error: GatewayError, account: ProviderAccount) -> GatewayError:
    error.provider = error.provider or account.name
    error.advice = health.advice_for(error)
    return error


def _adapter_fingerprint(account: ProviderAccount) -> tuple:
    """Everything an adapter is built from, and the keys that decrypt its credentials: when any of
    them changes (an edit, a new secret, a rotated key) the cached adapter is dropped."""
    return (account.updated, account.adapter, account.name, account.base_url, account.timeout_seconds,
            json.dumps(account.settings, sort_keys=True, default=str), account.credentials_encrypted,
            tuple(settings.FIELD_ENCRYPTION_KEYS))


def adapter_for(account: ProviderAccount) -> Adapter:
    """The account's adapter, built once per thread while the account stays the same: decrypting the
    credentials and opening a new HTTP client (no kept-alive connection) on every call cost more than a
    post to a nearby provider. Per thread, because an adapter's HTTP session is not thread-safe."""
    cache = getattr(_adapters, "by_account", None)
    if cache is None:
        cache = _adapters.by_account = OrderedDict()
    fingerprint = _adapter_fingerprint(account)
    cached = cache.get(account.pk)
    if cached is not None and cached[0] == fingerprint:
        cache.move_to_end(account.pk)
        return cached[1]
    adapter = account.build_adapter()
    cache[account.pk] = (fingerprint, adapter)
    cache.move_to_end(account.pk)
    while len(cache) > ADAPTERS_PER_THREAD:
        cache.popitem(last=False)
    return adapter


def call_account(account: ProviderAccount, operation: Operation, *,
                 successes: health.DeferredSuccesses | None = None) -> Any:
    """Run one operation on one account and record the outcome. Admission is the caller's job."""
    try:
        adapter = adapter_for(account)
    except (CredentialsUnreadable, LookupError) as exc:
        advice = "enter the credentials again" if isinstance(exc, CredentialsUnreadable) else (
            "this provider integration is not installed; pick another adapter or disable the account")
        error = ProviderUnavailable(str(exc), provider=account.name, advice=advice)
        if successes is not None:
            successes.flush()
        health.record_failure(account.pk, error, latency_ms=None)
        raise error
    return run_recorded(account, lambda: operation(adapter), successes=successes)


def run_recorded(account: ProviderAccount, call: Callable[[], Any], *,
                 successes: health.DeferredSuccesses | None = None, started: float | None = None) -> Any:
    """Time a call to the account's provider and record what came of it (successes through
    `successes` when given, which is flushed before any failure is recorded). `started`: when the
    provider's work began, for a call that only finishes it (a send in steps)."""
    started = time.monotonic() if started is None else started
    token = _current_account.set(account)
    try:
        try:
            value = call()
        except Exception:
            if successes is not None:
                successes.flush()  # the earlier successes are written before this outcome
            raise
    except ProviderSkipped as exc:
        raise _fill_in(exc, account)
    except ProviderRejected as exc:
        # The provider answered properly: it is up, the input is not.
        health.record_success(account.pk, latency_ms=_elapsed_ms(started))
        raise _fill_in(exc, account)
    except ProviderUnavailable as exc:
        if account.is_fallback:
            # A fallback calls no one, so its refusal is a skip, not an outage of a provider.
            raise ProviderSkipped(exc.message, provider=account.name, advice=exc.advice) from exc
        _record_failure(account, exc, started)
        raise
    except GatewayError as exc:
        _record_failure(account, exc, started)
        raise
    except Exception as exc:
        logger.exception("Provider %s raised an unexpected error", account.name)
        error = OutcomeUnknown(f"unexpected error in the {account.adapter} adapter: {type(exc).__name__}",
                               provider=account.name)
        health.record_failure(account.pk, error, latency_ms=_elapsed_ms(started))
        raise error from exc
    finally:
        _current_account.reset(token)
    if successes is not None:
        successes.add(_elapsed_ms(started))
    else:
        health.record_success(account.pk, latency_ms=_elapsed_ms(started))
    return value


def _record_failure(account: ProviderAccount, error: GatewayError, started: float) -> None:
    _fill_in(error, account)
    health.record_failure(account.pk, error, latency_ms=_elapsed_ms(started))
    logger.warning("Provider %s failed: %s (%s)", account.name, error.message, error.advice or "no advice")


def pace() -> None:
    """Called before each further request of a batched operation, so a long batch honours the
    account's shared rate limit request by request rather than once per chain attempt."""
    account = _current_account.get()
    if account is None or not account.rate_limit:
        return
    count, period = account.rate_limit
    waited = ratelimit.take_token(account.pk, (count, period), max_wait=max(conf.rate_limit_max_wait_seconds(), period))
    if waited is None:
        raise RateLimited(f"rate limit of {count} requests per {period:g} s reached mid-batch",
                          provider=account.name, retry_after=period / count)


def _health_of(account: ProviderAccount):
    """The account's health row: loaded with the account where it was selected with it."""
    try:
        return account.health
    except ProviderHealth.DoesNotExist:
        return health.health_row(account.pk)


def admit_account(account: ProviderAccount) -> health.Admission:
    """Rate limit first (a token is cheap to waste), then the breaker (a trial is not)."""
    row = _health_of(account)
    waited = ratelimit.take_token(account.pk, account.rate_limit, max_wait=conf.rate_limit_max_wait_seconds(),
                                  row=row)
    if waited is None:
        return _rate_limit_refusal(account)
    return health.admit(row)


def enabled_accounts(capability: str, channel: str = "") -> list[ProviderAccount]:
    accounts = (ProviderAccount.objects.select_related("health").filter(capability=capability, enabled=True)
                .order_by("priority", "name"))
    if channel:
        accounts = accounts.filter(channel=channel)
    return list(accounts)


def chain_run(*, capability: str, operation: Operation, channel: str = "") -> ChainResult:
    accounts = enabled_accounts(capability, channel)
    if not accounts:
        return ChainResult(skipped=True, reason=health.NO_PROVIDER_REASON)
    attempts: list[tuple[str, str]] = []
    errors: list[GatewayError] = []
    skip: ChainResult | None = None
    for account in accounts:
        admission = admit_account(account)
        if not admission.allowed:
            attempts.append((account.name, admission.reason))
            errors.append(ProviderUnavailable(admission.reason, provider=account.name,
                                              retry_after=admission.retry_after))
            continue
        try:
            value = call_account(account, operation)
        except ProviderSkipped as exc:
            # A fallback ranked above a real provider must not hide it: note the skip, try the rest.
            skip = skip or ChainResult(account_id=account.pk, provider=account.name, skipped=True, reason=exc.message)
            continue
        except ProviderUnavailable as exc:
            attempts.append((account.name, exc.message))
            errors.append(exc)
            continue
        return ChainResult(value=value, account_id=account.pk, provider=account.name, attempts=attempts)
    if skip and not errors:
        return skip
    summary = "; ".join(f"{name}: {message}" for name, message in attempts)
    retry_after = min((e.retry_after for e in errors if e.retry_after), default=None)
    raise NoProviderAvailable(f"No {capability.replace('_', ' ')} provider could do it ({summary})",
                              attempts=errors, retry_after=retry_after)


def _account_to_run(account_id: int, capability: str, account: ProviderAccount | None = None) -> ProviderAccount:
    if account is None:
        try:
            account = ProviderAccount.objects.select_related("health").get(pk=account_id)
        except ProviderAccount.DoesNotExist:
            raise NoProviderConfigured(f"Provider account {account_id} does not exist")
    if capability and account.capability != capability:
        raise DomainError(f"{account.name} is {with_article(account.get_capability_display().lower())} account, "
                          f"not {capability.replace('_', ' ')}.", "wrong_capability")
    if not account.enabled:
        raise ProviderUnavailable("the account is disabled", provider=account.name,
                                  advice="enable it in Provider accounts")
    return account


def _run_one(account: ProviderAccount, operation: Operation, successes: health.DeferredSuccesses | None) -> ChainResult:
    try:
        value = call_account(account, operation, successes=successes)
    except ProviderSkipped as exc:
        return ChainResult(account_id=account.pk, provider=account.name, skipped=True, reason=exc.message)
    return ChainResult(value=value, account_id=account.pk, provider=account.name)


def account_run(*, account_id: int, operation: Operation, capability: str = "") -> ChainResult:
    """One specific account (a channel account, a mailbox): no failover to another destination."""
    account = _account_to_run(account_id, capability)
    admission = admit_account(account)
    if not admission.allowed:
        raise _refusal_error(account, admission)
    return _run_one(account, operation, None)


def account_run_in_turn(*, account_id: int, operations: list[Operation], capability: str = "",
                        deferred: health.DeferredHealth | None = None,
                        account: ProviderAccount | None = None) -> Iterator[ChainResult | GatewayError]:
    """Several operations on one account, one after the other: the account and its health read and
    the breaker asked once for all. Each still takes its rate-limit token right before its request
    (tokens taken together and spent over the calls' time would let the requests bunch up), from the
    bucket as this call last wrote it. Yields one ChainResult or GatewayError per operation, in order,
    as soon as it is known: the next operation starts only when the caller asks for it, so the
    caller can record each outcome before the next request.

    After a failure other than a refusal of the input, the rest are not sent (the provider is down
    or asked to slow down): each comes back as a RateLimited that names the failure. While the
    breaker is not closed, the first call goes alone as its trial. With `deferred`, successes reach
    the health row with the run's others, except the trial's: it must close the breaker at once for
    every process. `account`, read with its health row just before by the caller, saves reading it."""
    account = _account_to_run(account_id, capability, account)
    # A copy: take_token keeps this run's view of the bucket in it, and a caller's account row may
    # serve several runs on other threads at once.
    row = copy.copy(_health_of(account))
    closed = row.breaker_state == BreakerState.CLOSED
    for done, operation in enumerate(operations):
        waited = ratelimit.take_token(account.pk, account.rate_limit, max_wait=conf.rate_limit_max_wait_seconds(),
                                      row=row)
        admission = _rate_limit_refusal(account) if waited is None else (
            health.admit(row) if not closed else health.Admission(True))
        if not admission.allowed:
            yield from (_refusal_error(account, admission) for _ in operations[done:])
            return
        try:
            result = _run_one(account, operation, deferred.of(account.pk) if deferred and closed else None)
        except ProviderRejected as exc:
            yield exc  # this input only: the next one may well go through
            continue
        except GatewayError as exc:
            yield exc
            yield from (RateLimited(f"not sent after the previous post failed: {exc.message}",
                                    provider=account.name, retry_after=exc.retry_after or 1.0)
                        for _ in operations[done + 1:])
            return
        # A success (the trial's, when the breaker was not closed) closed the breaker; a call withdrawn
        # before its request proved nothing, and the next one is the trial.
        closed = closed or not result.skipped
        yield result


def _refusal_error(account: ProviderAccount, admission: health.Admission) -> GatewayError:
    error_type = RateLimited if admission.rate_limited else CallRefused
    return error_type(admission.reason, provider=account.name, retry_after=admission.retry_after)


def _rate_limit_refusal(account: ProviderAccount) -> health.Admission:
    count, period = account.rate_limit
    return health.Admission(False, f"rate limit of {count} requests per {period:g} s reached", period / count,
                            rate_limited=True)
