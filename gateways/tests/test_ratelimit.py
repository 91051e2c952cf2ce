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
    taken = [ratelimit.take_token(account.pk, limit, max_wait=0) for _ in range(4)]

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
