import importlib
from datetime import timedelta

import pytest
from django.utils import timezone

from gateways import health, services
from gateways.capabilities import PersonQuery
from gateways.errors import GatewayError, NoProviderAvailable, ProviderUnavailable, RateLimited
from gateways.models import BreakerState, HealthStatus, OpenReason, ProviderHealth
from gateways.tests.factories import ProviderAccountFactory

pytestmark = pytest.mark.django_db

PEOPLE = [PersonQuery(ref="1")]


@pytest.fixture
def breaker(settings):
    settings.GATEWAYS_BREAKER_THRESHOLD = 3
    settings.GATEWAYS_BREAKER_COOLDOWN_SECONDS = 60
    settings.GATEWAYS_HEALTH_EMA_ALPHA = 0.5
    return settings


def _health(account) -> ProviderHealth:
    return ProviderHealth.objects.get(pk=account.pk)


def _end_cooldown(account) -> None:
    ProviderHealth.objects.filter(pk=account.pk).update(open_until=timezone.now() - timedelta(seconds=1))


def _primary_failing(fakes, *errors):
    """A primary whose next calls raise `errors` (then succeed), a secondary that always works."""
    primary = ProviderAccountFactory(name="primary", priority=1)
    ProviderAccountFactory(name="secondary", priority=2)
    fakes.script("primary", *errors)
    return primary


def _trip_breaker(fakes, *, extra_failures: int = 0):
    primary = _primary_failing(fakes, *[ProviderUnavailable("refused")] * (3 + extra_failures))
    for _ in range(3):
        services.enrich_people(PEOPLE)
    return primary


def test_breaker_opens_after_the_threshold_of_consecutive_failures(breaker, fake_providers):
    primary = _primary_failing(fake_providers, *[ProviderUnavailable("503", status=503)] * 3)

    for _ in range(3):
        services.enrich_people(PEOPLE)
    state = _health(primary)
    assert state.breaker_state == BreakerState.OPEN
    assert state.status == HealthStatus.DOWN
    assert state.last_advice.startswith("the provider has a fault on its side")

    fake_providers.CALLS.clear()
    result = services.enrich_people(PEOPLE)

    assert [call[0] for call in fake_providers.CALLS] == ["secondary"], "an open breaker is not called"
    assert result.attempts[0][0] == "primary" and "circuit open" in result.attempts[0][1]


def test_after_the_cooldown_one_trial_goes_through_and_success_closes(breaker, fake_providers):
    primary = _trip_breaker(fake_providers)
    _end_cooldown(primary)

    result = services.enrich_people(PEOPLE)

    assert result.provider == "primary"
    state = _health(primary)
    assert state.breaker_state == BreakerState.CLOSED and state.consecutive_failures == 0


def test_failed_trial_reopens_the_breaker_at_once(breaker, fake_providers):
    primary = _trip_breaker(fake_providers, extra_failures=1)
    _end_cooldown(primary)

    services.enrich_people(PEOPLE)

    state = _health(primary)
    assert state.breaker_state == BreakerState.OPEN
    assert state.open_until > timezone.now() + timedelta(seconds=50)


def test_only_one_caller_gets_the_half_open_trial(breaker):
    account = ProviderAccountFactory(name="primary")
    ProviderHealth.objects.filter(pk=account.pk).update(
        breaker_state=BreakerState.OPEN, open_until=timezone.now() - timedelta(seconds=1)
    )
    # Two processes read the same open row before either claims the trial.
    seen_by_first, seen_by_second = _health(account), _health(account)

    first, second = health.admit(seen_by_first), health.admit(seen_by_second)

    assert first.allowed is True
    assert second.allowed is False and "trial" in second.reason
    assert _health(account).breaker_state == BreakerState.HALF_OPEN


def test_a_trial_abandoned_by_a_dead_process_expires(breaker):
    account = ProviderAccountFactory(name="primary")
    ProviderHealth.objects.filter(pk=account.pk).update(
        breaker_state=BreakerState.HALF_OPEN, trial_started_at=timezone.now() - timedelta(seconds=120)
    )

    assert health.admit(_health(account)).allowed is True
    assert health.admit(_health(account)).allowed is False


def test_rate_limited_with_retry_after_keeps_the_account_out_until_then(breaker, fake_providers):
    primary = _primary_failing(fake_providers, RateLimited("429", status=429, retry_after=300))

    services.enrich_people(PEOPLE)

    state = _health(primary)
    assert state.breaker_state == BreakerState.OPEN
    assert state.open_until > timezone.now() + timedelta(seconds=290)
    assert "rate limit" in state.last_advice
    fake_providers.CALLS.clear()
    services.enrich_people(PEOPLE)
    assert [call[0] for call in fake_providers.CALLS] == ["secondary"]


def test_moving_averages_follow_each_outcome(breaker, fake_providers):
    account = ProviderAccountFactory(name="primary")
    fake_providers.script("primary", None, ProviderUnavailable("refused"))

    services.enrich_people(PEOPLE)
    assert _health(account).success_rate == pytest.approx(1.0)
    with pytest.raises(NoProviderAvailable):
        services.enrich_people(PEOPLE)

    state = _health(account)
    assert state.success_rate == pytest.approx(0.5)
    assert (state.calls, state.failures, state.consecutive_failures) == (2, 1, 1)
    assert state.latency_ms is not None and state.latency_ms >= 0
    assert state.status == HealthStatus.DEGRADED


def test_status_is_unknown_before_any_call_and_healthy_after_successes(breaker, fake_providers):
    account = ProviderAccountFactory(name="primary")
    assert _health(account).status == HealthStatus.UNKNOWN

    services.enrich_people(PEOPLE)

    assert _health(account).status == HealthStatus.HEALTHY


@pytest.mark.parametrize(("error", "expected"), [
    (GatewayError("x", status=401), "the API key is wrong or revoked; update it in Provider accounts"),
    (GatewayError("x", status=429), "the provider's rate limit was reached"),
    (GatewayError("x", status=502), "the provider has a fault on its side"),
    (GatewayError("[Errno 111] Connection refused"), "nothing answers at the provider's address"),
    (GatewayError("Read timed out"), "the provider did not answer in time"),
    (GatewayError("x", status=401, advice="Apollo answers 401: fix the key"), "Apollo answers 401: fix the key"),
    (GatewayError("something odd"), ""),
])
def test_advice_in_plain_words_where_the_cause_is_known(error, expected):
    assert health.advice_for(error).startswith(expected)


def test_repeated_rate_limits_keep_the_account_out_for_the_retry_time_not_the_cooldown(breaker):
    account = ProviderAccountFactory(name="primary")
    for _ in range(breaker.GATEWAYS_BREAKER_THRESHOLD + 1):
        health.record_failure(account.pk, RateLimited("429", status=429, retry_after=2), latency_ms=5)

    state = _health(account)
    assert state.breaker_state == BreakerState.OPEN
    assert state.open_until < timezone.now() + timedelta(seconds=10)
    admission = health.admit(state)
    assert (admission.allowed, admission.rate_limited) == (False, True)
    assert 0 < admission.retry_after <= 2


def test_after_a_rate_limit_every_process_may_call_again_without_a_trial(breaker):
    account = ProviderAccountFactory(name="primary")
    for _ in range(breaker.GATEWAYS_BREAKER_THRESHOLD):
        health.record_failure(account.pk, RateLimited("429", status=429, retry_after=1), latency_ms=5)
    _end_cooldown(account)

    stale = _health(account)
    assert health.admit(stale).allowed is True
    assert health.admit(stale).allowed is True
    assert _health(account).breaker_state == BreakerState.CLOSED


def test_a_failure_after_rate_limits_opens_the_breaker_for_its_cooldown(breaker):
    account = ProviderAccountFactory(name="primary")
    for _ in range(breaker.GATEWAYS_BREAKER_THRESHOLD - 1):
        health.record_failure(account.pk, RateLimited("429", status=429, retry_after=1), latency_ms=5)
    health.record_failure(account.pk, ProviderUnavailable("server error", status=503), latency_ms=5)

    state = _health(account)
    assert state.breaker_state == BreakerState.OPEN
    assert state.open_until > timezone.now() + timedelta(seconds=50)
    assert health.admit(state).rate_limited is False


def test_the_breaker_records_why_it_opened_and_a_success_clears_it(breaker):
    limited, failing = ProviderAccountFactory(name="limited"), ProviderAccountFactory(name="failing")

    health.record_failure(limited.pk, RateLimited("429", status=429, retry_after=30), latency_ms=5)
    for _ in range(breaker.GATEWAYS_BREAKER_THRESHOLD):
        health.record_failure(failing.pk, ProviderUnavailable("refused"), latency_ms=5)

    assert _health(limited).open_reason == OpenReason.RATE_LIMIT
    assert _health(failing).open_reason == OpenReason.FAILURES
    health.record_success(limited.pk, latency_ms=5)
    assert (_health(limited).breaker_state, _health(limited).open_reason) == (BreakerState.CLOSED, "")


def test_a_failed_call_under_way_during_a_rate_limit_hold_does_not_turn_it_into_an_outage(breaker):
    """A post sent just before the 429 that opened the hold fails afterwards (below the threshold):
    the hold still ends at the retry time for every process, with no single trial call."""
    account = ProviderAccountFactory(name="primary")
    health.record_failure(account.pk, RateLimited("429", status=429, retry_after=1), latency_ms=5)
    health.record_failure(account.pk, ProviderUnavailable("server error", status=503), latency_ms=5)
    _end_cooldown(account)

    stale = _health(account)
    assert stale.open_reason == OpenReason.RATE_LIMIT and stale.last_error.startswith("ProviderUnavailable")
    assert health.admit(stale).allowed is True
    assert health.admit(stale).allowed is True
    assert _health(account).breaker_state == BreakerState.CLOSED


def test_the_reason_not_the_text_of_the_last_error_decides_a_hold(breaker):
    account = ProviderAccountFactory(name="primary")
    ProviderHealth.objects.filter(pk=account.pk).update(
        breaker_state=BreakerState.OPEN, open_reason=OpenReason.FAILURES,
        open_until=timezone.now() + timedelta(seconds=30), last_error="RateLimited: 429")

    admission = health.admit(_health(account))

    assert (admission.allowed, admission.rate_limited) == (False, False)
    assert "repeated failures" in admission.reason


def test_migration_gives_open_breakers_their_reason_from_the_last_error():
    from django.apps import apps

    migration = importlib.import_module("gateways.migrations.0003_health_open_reason")
    held, failed, closed = (ProviderAccountFactory(name=name) for name in ("held", "failed", "closed"))
    rows = ProviderHealth.objects
    rows.filter(pk=held.pk).update(breaker_state=BreakerState.OPEN, last_error="RateLimited: 429 slow down")
    rows.filter(pk=failed.pk).update(breaker_state=BreakerState.HALF_OPEN, last_error="ProviderUnavailable: 503")
    rows.filter(pk=closed.pk).update(last_error="RateLimited: 429 long ago")

    migration.reasons_from_last_error(apps, None)

    assert dict(rows.values_list("account__name", "open_reason")) == {
        "held": OpenReason.RATE_LIMIT, "failed": OpenReason.FAILURES, "closed": ""}
