from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest

from gateways import ratelimit, services
from gateways.capabilities import PersonQuery
from gateways.models import ProviderHealth
from gateways.tests.factories import ProviderAccountFactory

pytestmark = pytest.mark.django_db

PEOPLE = [PersonQuery(ref="1")]


def test_calls_beyond_the_limit_move_on_to_the_next_provider(settings, fake_providers):
    settings.GATEWAYS_RATE_LIMIT_MAX_WAIT_SECONDS = 0.5
    ProviderAccountFactory(name="limited", priority=1, rate_limit_count=2, rate_limit_seconds=3600)
    ProviderAccountFactory(name="spare", priority=2)

    providers = [services.enrich_people(PEOPLE).provider for _ in range(3)]

    assert providers == ["limited", "limited", "spare"]
    assert [call[0] for call in fake_providers.CALLS] == ["limited", "limited", "spare"]


def test_a_short_wait_is_waited_rather_than_skipped(settings, fake_providers):
    settings.GATEWAYS_RATE_LIMIT_MAX_WAIT_SECONDS = 5
    account = ProviderAccountFactory(name="limited", priority=1, rate_limit_count=1, rate_limit_seconds=0.2)
    ProviderAccountFactory(name="spare", priority=2)

    providers = [services.enrich_people(PEOPLE).provider for _ in range(3)]

    assert providers == ["limited"] * 3
    assert ProviderHealth.objects.get(pk=account.pk).bucket_version == 3


def test_bucket_is_shared_through_the_database(settings):
    account = ProviderAccountFactory(name="limited", rate_limit_count=3, rate_limit_seconds=3600)
    limit = account.rate_limit

    # Each take reads the row afresh, as a separate process would.
    taken = [ratelimit.take_token(account.pk, limit, max_wait=0, margin=0) for _ in range(4)]

    assert taken == [0.0, 0.0, 0.0, None]


def test_a_stale_read_loses_the_race_and_reads_again():
    account = ProviderAccountFactory(name="limited", rate_limit_count=1, rate_limit_seconds=3600)
    ProviderHealth.objects.filter(pk=account.pk).update(bucket_tokens=1.0, bucket_version=7)
    stale = ProviderHealth.objects.filter(pk=account.pk, bucket_version=6)

    assert stale.update(bucket_tokens=0) == 0, "an UPDATE guarded by an old version changes nothing"
    assert ratelimit.take_token(account.pk, account.rate_limit, max_wait=0) == 0.0
    assert ratelimit.take_token(account.pk, account.rate_limit, max_wait=0) is None


def test_batches_are_paced_request_by_request(settings, fake_providers):
    settings.GATEWAYS_RATE_LIMIT_MAX_WAIT_SECONDS = 5
    account = ProviderAccountFactory(name="limited", rate_limit_count=10, rate_limit_seconds=1)
    people = [PersonQuery(ref=str(n)) for n in range(6)]

    services.enrich_people(people)

    assert len(fake_providers.CALLS) == 3
    assert ProviderHealth.objects.get(pk=account.pk).bucket_version == 3, "one token per request"


def test_account_without_limit_takes_no_token():
    account = ProviderAccountFactory(name="free")

    assert account.rate_limit is None
    assert ratelimit.take_token(account.pk, None, max_wait=0) == 0.0


def _over_the_limit(arrivals: list[float], count: int, period: float) -> int:
    """Requests that find the provider's own bucket (capacity `count`, refilled at count/period,
    counting where the requests arrive) empty."""
    rate, tokens, last, over = count / period, float(count), None, 0
    for at in sorted(arrivals):
        tokens = tokens if last is None else min(float(count), tokens + (at - last) * rate)
        last = at
        if tokens >= 1 - 1e-9:
            tokens -= 1
        else:
            over += 1
    return over


def _grants(monkeypatch, account, *, margin=None, seconds=2.0, every=0.01) -> list[float]:
    """Posting threads asking for tokens every `every` s on a fake clock until one is refused; the
    moments of the grants."""
    start, clock = datetime(2026, 1, 1, tzinfo=UTC), SimpleNamespace(t=0.0)
    monkeypatch.setattr(ratelimit, "timezone", SimpleNamespace(now=lambda: start + timedelta(seconds=clock.t)))
    grants = []
    for step in range(int(seconds / every)):
        clock.t = round(step * every, 6)
        while ratelimit.take_token(account.pk, account.rate_limit, max_wait=0, margin=margin) is not None:
            grants.append(clock.t)
    return grants


def _worst_lateness(grants: list[float], late: float) -> int:
    """Most requests over the limit when every request granted before some moment leaves `late`
    seconds after its grant and every later one at once (the earlier ones land among the later)."""
    cut_offs = [n * 0.01 for n in range(int(max(grants) / 0.01) + 2)]
    return max(_over_the_limit([g + late if g < cut else g for g in grants], 8, 1.0) for cut in cut_offs)


def test_without_a_margin_a_request_sent_late_after_its_grant_breaks_the_limit(monkeypatch):
    account = ProviderAccountFactory(name="limited", rate_limit_count=8, rate_limit_seconds=1)

    grants = _grants(monkeypatch, account, margin=0)

    assert _over_the_limit(grants, 8, 1.0) == 0, "the grants themselves follow the bucket"
    assert _worst_lateness(grants, 0.2) > 0


def test_requests_up_to_the_margin_late_still_fit_the_providers_limit(monkeypatch, settings):
    settings.GATEWAYS_RATE_LIMIT_MARGIN_SECONDS = 0.25
    account = ProviderAccountFactory(name="limited", rate_limit_count=8, rate_limit_seconds=1)

    grants = _grants(monkeypatch, account)

    assert _worst_lateness(grants, 0.25) == 0
    assert grants.count(0.0) == 6, "the first burst leaves a reserve of 0.25 s x 8/s = 2 tokens"
    assert len(grants) >= 6 + 8 * 1.9 - 1, "the sustained rate is the account's"


def test_a_limit_of_one_request_per_period_keeps_no_reserve():
    assert ratelimit.reserve_tokens((1, 1.0), 0.25) == 0
    assert ratelimit.reserve_tokens((3, 3600.0), 0.25) == pytest.approx(0.25 * 3 / 3600)
    assert ratelimit.reserve_tokens((60, 1.0), 0.25) == 15
