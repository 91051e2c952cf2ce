"""Channel posts in bulk: an account's adapter is built once per thread until the account changes,
and a posting session writes health once for many successes, but a trial call's success at once."""

import threading
from datetime import timedelta

import pytest
from django.utils import timezone

from gateways import chain, services
from gateways.capabilities import Capability, ChannelPost
from gateways.errors import ProviderRejected, ProviderUnavailable, RateLimited
from gateways.models import BreakerState, ProviderAccount, ProviderHealth
from gateways.tests.factories import ProviderAccountFactory

pytestmark = pytest.mark.django_db


def _channel_account(**fields):
    return ProviderAccountFactory(**{"capability": Capability.CHANNEL_POSTING, "adapter": "test_channel", **fields})


def _post(n=0):
    return ChannelPost(idempotency_key=f"key-{n}", text="Hello")


def _fresh(account):
    return ProviderAccount.objects.get(pk=account.pk)


def test_an_unchanged_account_reuses_its_adapter():
    account = _channel_account()

    assert chain.adapter_for(_fresh(account)) is chain.adapter_for(_fresh(account))


def test_new_credentials_build_a_new_adapter_with_them():
    account = _channel_account(adapter="webhook", settings={"url": "https://hooks.example/in"},
                               credentials={"signing_secret": "whsec_b2xk"})
    before = chain.adapter_for(_fresh(account))

    services.account_update(account=_fresh(account), credentials={"signing_secret": "whsec_bmV3"})
    after = chain.adapter_for(_fresh(account))

    assert after is not before
    assert after.credentials == {"signing_secret": "whsec_bmV3"}


def test_a_change_made_without_save_still_builds_a_new_adapter():
    account = _channel_account()
    before = chain.adapter_for(_fresh(account))

    ProviderAccount.objects.filter(pk=account.pk).update(timeout_seconds=3.0)

    assert chain.adapter_for(_fresh(account)).timeout == 3.0
    assert chain.adapter_for(_fresh(account)) is not before


def test_each_thread_has_its_own_adapter():
    account = _fresh(_channel_account())
    seen = []
    thread = threading.Thread(target=lambda: seen.append(chain.adapter_for(account)))
    thread.start()
    thread.join()

    assert seen[0] is not chain.adapter_for(account)


def test_a_session_writes_the_successes_of_many_posts_once(fake_providers, django_assert_num_queries):
    account = _channel_account()
    with services.open_posting_session() as session:
        services.publish_posts(account_id=account.pk, posts=[_post(0)], session=session)
        # Per post: the account with its health row; no health write.
        with django_assert_num_queries(1):
            services.publish_posts(account_id=account.pk, posts=[_post(1)], session=session)
        assert ProviderHealth.objects.get(pk=account.pk).calls < 2

    assert ProviderHealth.objects.get(pk=account.pk).calls == 2


def test_without_a_session_each_post_writes_health(fake_providers):
    account = _channel_account()

    services.publish_post(account_id=account.pk, post=_post(0))

    assert ProviderHealth.objects.get(pk=account.pk).calls == 1


def test_a_trial_calls_success_closes_the_breaker_at_once(fake_providers):
    account = _channel_account()
    ProviderHealth.objects.filter(pk=account.pk).update(
        breaker_state=BreakerState.OPEN, open_until=timezone.now() - timedelta(seconds=1), consecutive_failures=5)

    with services.open_posting_session() as session:
        services.publish_posts(account_id=account.pk, posts=[_post()], session=session)
        row = ProviderHealth.objects.get(pk=account.pk)
        assert (row.breaker_state, row.calls) == (BreakerState.CLOSED, 1)


def test_posts_to_one_account_read_it_once_and_take_a_token_each(fake_providers, django_assert_num_queries):
    account = _channel_account(rate_limit_count=10, rate_limit_seconds=1)

    with services.open_posting_session() as session:
        with django_assert_num_queries(1 + 4):  # the account with its health row; a token per post
            results = services.publish_posts(account_id=account.pk, posts=[_post(n) for n in range(4)],
                                             session=session)

    assert [result.value.external_id for result in results] == [f"ext-key-{n}" for n in range(4)]
    assert ProviderHealth.objects.get(pk=account.pk).calls == 4
    assert ProviderHealth.objects.get(pk=account.pk).bucket_version == 4


def test_a_refused_post_does_not_stop_the_next_ones(fake_providers):
    account = _channel_account()
    fake_providers.script(account.name, ProviderRejected("too long"))

    results = services.publish_posts(account_id=account.pk, posts=[_post(n) for n in range(3)])

    assert isinstance(results[0], ProviderRejected)
    assert [result.value.external_id for result in results[1:]] == ["ext-key-1", "ext-key-2"]


def test_after_a_failure_the_rest_are_not_sent_and_say_why(fake_providers):
    account = _channel_account()
    fake_providers.script(account.name, None, ProviderUnavailable("503 from the provider"))

    results = services.publish_posts(account_id=account.pk, posts=[_post(n) for n in range(4)])

    assert results[0].value.external_id == "ext-key-0"
    assert isinstance(results[1], ProviderUnavailable)
    assert all(isinstance(result, RateLimited) and "503 from the provider" in result.message
               for result in results[2:])
    assert [call[2] for call in fake_providers.CALLS] == ["key-0", "key-1"]


def test_posts_beyond_the_rate_limit_are_not_sent(fake_providers, settings):
    settings.GATEWAYS_RATE_LIMIT_MAX_WAIT_SECONDS = 0
    settings.GATEWAYS_RATE_LIMIT_MARGIN_SECONDS = 0  # the whole bucket at once (test_ratelimit covers the margin)
    account = _channel_account(rate_limit_count=2, rate_limit_seconds=60)

    results = services.publish_posts(account_id=account.pk, posts=[_post(n) for n in range(3)])

    assert [call[2] for call in fake_providers.CALLS] == ["key-0", "key-1"]
    assert isinstance(results[2], RateLimited) and results[2].retry_after == 30


def test_an_open_breaker_sends_none_of_them(fake_providers):
    account = _channel_account()
    ProviderHealth.objects.filter(pk=account.pk).update(
        breaker_state=BreakerState.OPEN, open_until=timezone.now() + timedelta(seconds=60), consecutive_failures=5)

    results = services.publish_posts(account_id=account.pk, posts=[_post(n) for n in range(2)])

    assert all(isinstance(result, ProviderUnavailable) for result in results)
    assert fake_providers.CALLS == []


def test_after_the_cool_down_one_trial_goes_first_then_the_rest(fake_providers):
    account = _channel_account()
    ProviderHealth.objects.filter(pk=account.pk).update(
        breaker_state=BreakerState.OPEN, open_until=timezone.now() - timedelta(seconds=1), consecutive_failures=5)
    fake_providers.script(account.name, ProviderUnavailable("still down"))

    results = services.publish_posts(account_id=account.pk, posts=[_post(n) for n in range(3)])

    assert isinstance(results[0], ProviderUnavailable)
    assert all(isinstance(result, RateLimited) for result in results[1:])
    assert len(fake_providers.CALLS) == 1
    assert ProviderHealth.objects.get(pk=account.pk).breaker_state == BreakerState.OPEN


def test_accounts_read_together_by_the_session_are_not_read_again_per_post(fake_providers,
                                                                           django_assert_num_queries):
    first, second = _channel_account(), _channel_account()
    with services.open_posting_session() as session:
        with django_assert_num_queries(1):
            session.read_accounts([first.pk, second.pk])
        with django_assert_num_queries(0):  # no rate limit, so no token to take; health written at the end
            results = [services.publish_posts(account_id=account.pk, posts=[_post(n)], session=session)
                       for n, account in enumerate((first, second))]

    assert [result[0].value.external_id for result in results] == ["ext-key-0", "ext-key-1"]
    assert ProviderHealth.objects.filter(calls=1).count() == 2
