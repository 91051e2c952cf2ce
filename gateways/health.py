"""Shared health of provider accounts: outcomes, moving averages, circuit breaker, advice.

Every write is a single UPDATE with F() expressions or a conditional WHERE, so concurrent web and
worker processes never lose each other's counts and only one of them wins a half-open trial.
"""

import threading
import time
from dataclasses import dataclass
from datetime import timedelta

from django.db.models import Case, F, Q, Value, When
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone

from gateways import conf
from gateways.capabilities import ProviderKind
from gateways.errors import GatewayError, RateLimited
from gateways.models import BreakerState, HealthStatus, OpenReason, ProviderAccount, ProviderHealth

NO_PROVIDER_REASON = "skipped: no provider configured"

_ADVICE_BY_STATUS = {
    400: "the provider refused the request as malformed; check the account's settings",
    401: "the API key is wrong or revoked; update it in Provider accounts",
    402: "the provider wants payment or credits; check the plan with the provider",
    403: "the key is valid but not allowed to do this (plan, scope or credits); check it with the provider",
    404: "the provider's address is wrong; check the base URL in Provider accounts",
    408: "the provider did not answer in time; AICMO retries after the cool-down",
    429: "the provider's rate limit was reached; AICMO waits until it resets. "
    "If this repeats, lower the rate limit in Provider accounts",
}
_ADVICE_5XX = "the provider has a fault on its side; AICMO tries the next provider and retries after the cool-down"
_ADVICE_BY_WORDS = (
    (("refused",), "nothing answers at the provider's address; check the base URL, the port and the network"),
    (("timed out", "timeout"), "the provider did not answer in time; raise the timeout or check its status page"),
    (("name or service not known", "resolve", "nodename"), "the provider's host name does not resolve; check the URL"),
    (("certificate", "ssl", "tls"), "the secure connection failed; check the address and the provider's certificate"),
    (("authentication", "credentials", "login"), "the provider refused the credentials; update them in Provider "
     "accounts"),
)


def advice_for(error: GatewayError) -> str:
    """The adapter's own advice, else a default from the status code or the kind of failure."""
    if error.advice:
        return error.advice
    if error.status in _ADVICE_BY_STATUS:
        return _ADVICE_BY_STATUS[error.status]
    if error.status and 500 <= error.status < 600:
        return _ADVICE_5XX
    text = error.message.lower()
    for words, advice in _ADVICE_BY_WORDS:
        if any(word in text for word in words):
            return advice
    return ""


def health_row(account_id: int) -> ProviderHealth:
    health, _ = ProviderHealth.objects.get_or_create(account_id=account_id)
    return health


_NOT_PROBED_BY_KIND = {
    ProviderKind.PLACEHOLDER: "not configured: a placeholder that does nothing",
    ProviderKind.MANUAL: "manual: a person publishes the draft, there is nothing to call",
}


def not_probed_detail(account: ProviderAccount) -> str:
    """Why the account is not probed, or "" when it can be."""
    if account.kind in _NOT_PROBED_BY_KIND:
        return _NOT_PROBED_BY_KIND[account.kind]
    if not account.probeable:
        return "not probed: checking it would do real work; its real calls tell its health"
    return ""


def fix_advice(account: ProviderAccount) -> str:
    what = account.get_capability_display().lower()
    if account.kind == ProviderKind.PLACEHOLDER:
        return f"add a real {what} account in Provider accounts"
    if account.kind == ProviderKind.MANUAL:
        return "connect the channel's API in Provider accounts to publish without a person"
    return ""


def account_status(account: ProviderAccount) -> str:
    """What a person is told about one account: placeholders and manual channels are never healthy,
    and an account that cannot be probed is "not probed" until a real call tells."""
    if not account.enabled:
        return "disabled"
    if account.kind == ProviderKind.PLACEHOLDER:
        return HealthStatus.NOT_CONFIGURED
    if account.kind == ProviderKind.MANUAL:
        return HealthStatus.MANUAL
    row = getattr(account, "health", None) or ProviderHealth(account=account)
    status = row.status
    if status == HealthStatus.UNKNOWN and not account.probeable:
        return HealthStatus.NOT_PROBED
    return status


def status_label(status: str) -> str:
    """"not configured", "not called yet", "disabled": the status in a person's words."""
    return HealthStatus(status).label.split(" (")[0].lower() if status in HealthStatus.values else status


def record_success(account_id: int, *, latency_ms: float) -> None:
    record_successes(account_id, count=1, mean_latency_ms=latency_ms)


def record_successes(account_id: int, *, count: int, mean_latency_ms: float) -> None:
    """`count` successful calls in one UPDATE: the moving averages move as they would after
    `count` single successes at the mean latency (decay (1 - alpha)^count)."""
    if count <= 0:
        return
    decay = (1 - conf.health_ema_alpha()) ** count
    ProviderHealth.objects.filter(pk=account_id).update(
        calls=F("calls") + count,
        success_rate=Value(1.0) - (Value(1.0) - Coalesce(F("success_rate"), Value(1.0))) * decay,
        latency_ms=Coalesce(F("latency_ms"), Value(mean_latency_ms)) * decay + mean_latency_ms * (1 - decay),
        consecutive_failures=0,
        last_success_at=timezone.now(),
        breaker_state=BreakerState.CLOSED,
        opened_at=None,
        open_until=None,
        open_reason="",
        trial_started_at=None,
    )


class DeferredSuccesses:
    """Successful calls of one account counted in memory and written as one update at most every
    `every` seconds, and always before a failure is recorded, so outcomes keep their order.

    For hot paths (sending a campaign) where one health write per message would double the
    writes of each message; other processes see the account's health at most `every` s late."""

    def __init__(self, account_id: int, *, every: float = 1.0):
        self.account_id = account_id
        self.every = every
        self.count = 0
        self.total_ms = 0.0
        self.flushed_at = time.monotonic()
        # A dispatcher's posting threads share one per account; the count must not lose an add.
        self._lock = threading.Lock()

    def add(self, latency_ms: float) -> None:
        with self._lock:
            self.count += 1
            self.total_ms += latency_ms
            if time.monotonic() - self.flushed_at >= self.every:
                self._flush()

    def flush(self) -> None:
        with self._lock:
            self._flush()

    def _flush(self) -> None:
        if self.count:
            record_successes(self.account_id, count=self.count, mean_latency_ms=self.total_ms / self.count)
        self.count, self.total_ms, self.flushed_at = 0, 0.0, time.monotonic()


class DeferredHealth:
    """DeferredSuccesses for every account a run calls, shared by its threads; flush() at the end."""

    def __init__(self, *, every: float = 1.0):
        self.every = every
        self._by_account: dict[int, DeferredSuccesses] = {}
        self._lock = threading.Lock()

    def of(self, account_id: int) -> DeferredSuccesses:
        with self._lock:
            if account_id not in self._by_account:
                self._by_account[account_id] = DeferredSuccesses(account_id, every=self.every)
            return self._by_account[account_id]

    def flush(self) -> None:
        with self._lock:
            pending = list(self._by_account.values())
        for successes in pending:
            successes.flush()


def record_failure(account_id: int, error: GatewayError, *, latency_ms: float | None) -> None:
    """Count the failure and open the breaker when the threshold is reached or a half-open trial
    failed. A rate limit with a retry time is not an outage: it keeps the account out until then only,
    never for the breaker's cool-down. One UPDATE either way."""
    alpha = conf.health_ema_alpha()
    now = timezone.now()
    changes = {
        "calls": F("calls") + 1,
        "failures": F("failures") + 1,
        "success_rate": Coalesce(F("success_rate"), Value(0.0)) * (1 - alpha),
        "consecutive_failures": F("consecutive_failures") + 1,
        "last_error": f"{type(error).__name__}: {error.message}"[:2000],
        "last_advice": advice_for(error),
        "last_failure_at": now,
    }
    if latency_ms is not None:
        changes["latency_ms"] = Coalesce(F("latency_ms"), Value(latency_ms)) * (1 - alpha) + alpha * latency_ms
    if isinstance(error, RateLimited) and error.retry_after:
        until = now + timedelta(seconds=error.retry_after)
        changes.update(
            breaker_state=BreakerState.OPEN,
            opened_at=Coalesce(F("opened_at"), Value(now)),
            open_until=Greatest(Coalesce(F("open_until"), Value(until)), Value(until)),
            open_reason=OpenReason.RATE_LIMIT,
            trial_started_at=None,
        )
    else:
        opens = Q(consecutive_failures__gte=conf.breaker_threshold() - 1) | Q(breaker_state=BreakerState.HALF_OPEN)
        changes.update(
            breaker_state=Case(When(opens, then=Value(BreakerState.OPEN)), default=F("breaker_state")),
            opened_at=Case(When(opens, then=Value(now)), default=F("opened_at")),
            open_until=Case(When(opens, then=Value(now + timedelta(seconds=conf.breaker_cooldown_seconds()))),
                            default=F("open_until")),
            # A failure below the threshold leaves an open breaker's reason as it was: the failed call
            # was already under way when a rate limit opened it, which says nothing of an outage.
            open_reason=Case(When(opens, then=Value(OpenReason.FAILURES)), default=F("open_reason")),
            trial_started_at=Case(When(opens, then=Value(None)), default=F("trial_started_at")),
        )
    ProviderHealth.objects.filter(pk=account_id).update(**changes)


@dataclass
class Admission:
    allowed: bool
    reason: str = ""
    retry_after: float | None = None
    rate_limited: bool = False  # refused by our own shared rate limit rather than by the breaker


def admit(health: ProviderHealth) -> Admission:
    """May a call go to this account now? Claims the single half-open trial when the cool-down is over."""
    if health.breaker_state == BreakerState.CLOSED:
        return Admission(True)
    now = timezone.now()
    rows = ProviderHealth.objects.filter(pk=health.pk)
    if health.breaker_state == BreakerState.OPEN:
        # Opened by the provider's rate limit, not by failures: only its retry time keeps the account
        # shut, and no single trial call is needed afterwards.
        held = health.open_reason == OpenReason.RATE_LIMIT
        if health.open_until and health.open_until > now:
            wait = (health.open_until - now).total_seconds()
            if held:
                return Admission(False, f"circuit open for {wait:.0f} more seconds: the provider's rate limit",
                                 wait, rate_limited=True)
            return Admission(False, f"circuit open for {wait:.0f} more seconds after repeated failures", wait)
        if held:
            # Its retry time is over: every process may call again, no single trial needed.
            rows.filter(breaker_state=BreakerState.OPEN, open_until=health.open_until).update(
                breaker_state=BreakerState.CLOSED, opened_at=None, open_until=None, open_reason="")
            return Admission(True)
        claimed = rows.filter(breaker_state=BreakerState.OPEN, open_until=health.open_until).update(
            breaker_state=BreakerState.HALF_OPEN, trial_started_at=now
        )
        return Admission(True) if claimed else Admission(False, "another process is making the trial call")
    # Half-open: a trial whose process died would block the account forever, so it expires.
    stale_before = now - timedelta(seconds=max(conf.breaker_cooldown_seconds(), 1))
    if health.trial_started_at and health.trial_started_at < stale_before:
        claimed = rows.filter(breaker_state=BreakerState.HALF_OPEN, trial_started_at=health.trial_started_at).update(
            trial_started_at=now
        )
        if claimed:
            return Admission(True)
    return Admission(False, "a trial call after the cool-down is in progress")
