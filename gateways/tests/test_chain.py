import pytest

from gateways import services
from gateways.capabilities import Capability, PersonQuery, SyncRecord
from gateways.errors import (
    NoProviderAvailable,
    OutcomeUnknown,
    ProviderRejected,
    ProviderSkipped,
    ProviderUnavailable,
    RateLimited,
)
from gateways.models import BreakerState, ProviderHealth
from gateways.tests.factories import ProviderAccountFactory

pytestmark = pytest.mark.django_db

PEOPLE = [PersonQuery(ref="1", email="ada@example.com")]


def test_no_enabled_account_is_skipped_never_a_fake_success(fake_providers):
    ProviderAccountFactory(name="off", enabled=False)

    result = services.enrich_people(PEOPLE)

    assert result.skipped is True
    assert result.reason == "skipped: no provider configured"
    assert result.value is None
    assert fake_providers.CALLS == []


def test_accounts_are_tried_in_priority_order(fake_providers):
    ProviderAccountFactory(name="second", priority=20)
    ProviderAccountFactory(name="first", priority=10)

    result = services.enrich_people(PEOPLE)

    assert result.provider == "first"
    assert [call[0] for call in fake_providers.CALLS] == ["first"]
    assert result.value[0].fields == {"job_title": "CEO"}


@pytest.mark.parametrize("error", [
    ProviderUnavailable("connection refused"),
    ProviderUnavailable("server error", status=503),
    ProviderUnavailable("bad key", status=401),
    RateLimited("too many", status=429, retry_after=30),
])
def test_unavailable_primary_fails_over_to_the_next(fake_providers, error):
    primary = ProviderAccountFactory(name="primary", priority=1)
    ProviderAccountFactory(name="secondary", priority=2)
    fake_providers.script("primary", error)

    result = services.enrich_people(PEOPLE)

    assert result.provider == "secondary"
    assert result.attempts == [("primary", error.message)]
    health = ProviderHealth.objects.get(pk=primary.pk)
    assert health.consecutive_failures == 1
    assert error.message in health.last_error


def test_rejected_input_does_not_fail_over(fake_providers):
    ProviderAccountFactory(name="primary", priority=1)
    ProviderAccountFactory(name="secondary", priority=2)
    fake_providers.script("primary", ProviderRejected("first_name is required", status=422))

    with pytest.raises(ProviderRejected) as raised:
        services.enrich_people(PEOPLE)

    assert str(raised.value) == "primary: first_name is required"
    assert [call[0] for call in fake_providers.CALLS] == ["primary"]


def test_unknown_outcome_is_never_retried_elsewhere(fake_providers):
    ProviderAccountFactory(name="primary", priority=1)
    ProviderAccountFactory(name="secondary", priority=2)
    fake_providers.script("primary", OutcomeUnknown("read timeout after sending"))

    with pytest.raises(OutcomeUnknown):
        services.enrich_people(PEOPLE)

    assert [call[0] for call in fake_providers.CALLS] == ["primary"]


def test_unexpected_adapter_error_counts_as_unknown_outcome(fake_providers):
    account = ProviderAccountFactory(name="primary", priority=1)
    ProviderAccountFactory(name="secondary", priority=2)
    fake_providers.script("primary", KeyError("person"))

    with pytest.raises(OutcomeUnknown, match="unexpected error in the test_enrichment adapter: KeyError"):
        services.enrich_people(PEOPLE)

    assert ProviderHealth.objects.get(pk=account.pk).consecutive_failures == 1


def test_every_provider_failing_raises_with_each_attempt(fake_providers):
    ProviderAccountFactory(name="a", priority=1)
    ProviderAccountFactory(name="b", priority=2)
    fake_providers.script("a", ProviderUnavailable("down"))
    fake_providers.script("b", RateLimited("slow down", retry_after=12))

    with pytest.raises(NoProviderAvailable) as raised:
        services.enrich_people(PEOPLE)

    assert [e.provider for e in raised.value.attempts] == ["a", "b"]
    assert "a: down" in str(raised.value) and "b: slow down" in str(raised.value)
    assert raised.value.retry_after == 12


def test_fallback_that_declines_answers_skipped(fake_providers):
    ProviderAccountFactory(name="noop")
    fake_providers.script("noop", ProviderSkipped("skipped: no provider configured"))

    result = services.enrich_people(PEOPLE)

    assert result.skipped and result.reason == "skipped: no provider configured"


def test_fallback_after_real_failures_reports_the_failures(fake_providers):
    ProviderAccountFactory(name="real", priority=1)
    ProviderAccountFactory(name="noop", priority=2)
    fake_providers.script("real", ProviderUnavailable("down"))
    fake_providers.script("noop", ProviderSkipped("skipped: no provider configured"))

    with pytest.raises(NoProviderAvailable, match="real: down"):
        services.enrich_people(PEOPLE)


def test_fallback_ranked_first_does_not_hide_a_real_provider(fake_providers):
    ProviderAccountFactory(name="noop", priority=1)
    ProviderAccountFactory(name="real", priority=2)
    fake_providers.script("noop", ProviderSkipped("skipped: no provider configured"))

    result = services.enrich_people(PEOPLE)

    assert result.provider == "real" and not result.skipped


def test_enrichment_is_sent_in_batches_of_the_adapter_size(fake_providers):
    ProviderAccountFactory(name="apollo-like")
    people = [PersonQuery(ref=str(n)) for n in range(5)]

    result = services.enrich_people(people)

    assert [call[2] for call in fake_providers.CALLS] == [["0", "1"], ["2", "3"], ["4"]]
    assert [person.ref for person in result.value] == ["0", "1", "2", "3", "4"]


def test_sync_totals_every_batch(fake_providers):
    ProviderAccountFactory(name="airtable-like", capability=Capability.CRM_SYNC, adapter="test_sync")
    records = [SyncRecord(key=f"{n}@example.com", fields={}) for n in range(23)]

    result = services.sync_records(records)

    assert (result.value.created, result.value.updated) == (23, 0)
    assert [len(call[2]) for call in fake_providers.CALLS] == [10, 10, 3]


def test_verification_returns_one_verdict_per_address(fake_providers):
    ProviderAccountFactory(name="verifier", capability=Capability.EMAIL_VERIFICATION, adapter="test_verification")

    result = services.verify_emails(["a@example.com", "b@example.com"])

    assert [(v.email, v.status) for v in result.value] == [("a@example.com", "valid"), ("b@example.com", "valid")]


def test_success_after_failures_resets_the_count_and_closes_the_breaker(fake_providers):
    account = ProviderAccountFactory(name="flaky")
    ProviderHealth.objects.filter(pk=account.pk).update(consecutive_failures=3)

    services.enrich_people(PEOPLE)

    health = ProviderHealth.objects.get(pk=account.pk)
    assert health.consecutive_failures == 0
    assert health.breaker_state == BreakerState.CLOSED
    assert health.last_success_at is not None
