import pytest

from aicmo_site.errors import DomainError
from gateways import services
from gateways.capabilities import Capability, ChannelPost, InboundMessage
from gateways.errors import ProviderUnavailable, RateLimited
from gateways.models import InboxCursor, ProviderHealth
from gateways.tests.factories import ProviderAccountFactory

pytestmark = pytest.mark.django_db


def _channel(name="mastodon-main", **extra):
    return ProviderAccountFactory(name=name, capability=Capability.CHANNEL_POSTING, adapter="test_channel", **extra)


def test_channel_is_derived_from_the_adapter():
    assert _channel().channel == "testchannel"


def test_adapter_of_another_capability_is_refused():
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError, match="provides channel_posting"):
        ProviderAccountFactory(name="x", capability=Capability.LEAD_ENRICHMENT, adapter="test_channel")


def test_unknown_plain_setting_is_refused():
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError, match="Unknown parameters"):
        ProviderAccountFactory(name="x", settings={"colour": "blue"})


def test_publish_goes_to_that_account_only(fake_providers):
    account = _channel()
    _channel("mastodon-backup")
    fake_providers.script("mastodon-main", ProviderUnavailable("503", status=503))

    with pytest.raises(ProviderUnavailable):
        services.publish_post(account_id=account.pk, post=ChannelPost(idempotency_key="job-1", text="Hi"))

    assert [c[0] for c in fake_providers.CALLS] == ["mastodon-main"], "no failover to another destination"


def test_publish_then_lookup_finds_the_post(fake_providers):
    account = _channel()
    post = ChannelPost(idempotency_key="job-1", text="Hi")

    published = services.publish_post(account_id=account.pk, post=post).value
    found = services.lookup_post(account_id=account.pk, post=post)

    assert published.status == "published" and found.external_id == "ext-job-1"


def test_account_with_open_breaker_says_when_to_come_back(fake_providers):
    account = _channel()
    fake_providers.script("mastodon-main", RateLimited("429", status=429, retry_after=120))
    with pytest.raises(RateLimited):
        services.publish_post(account_id=account.pk, post=ChannelPost(idempotency_key="job-1", text="Hi"))

    with pytest.raises(ProviderUnavailable) as raised:
        services.publish_post(account_id=account.pk, post=ChannelPost(idempotency_key="job-1", text="Hi"))

    assert raised.value.retry_after > 100 and "circuit open" in raised.value.message
    assert len(fake_providers.CALLS) == 1


def test_publish_with_an_account_of_another_capability_is_refused():
    account = ProviderAccountFactory(name="apollo")

    with pytest.raises(DomainError, match="not channel posting"):
        services.publish_post(account_id=account.pk, post=ChannelPost(idempotency_key="job-1", text="Hi"))


def test_account_over_its_own_rate_limit_is_rate_limited(settings, fake_providers):
    settings.GATEWAYS_RATE_LIMIT_MAX_WAIT_SECONDS = 0
    account = _channel(rate_limit_count=1, rate_limit_seconds=3600)
    services.publish_post(account_id=account.pk, post=ChannelPost(idempotency_key="job-1", text="Hi"))

    with pytest.raises(RateLimited) as raised:
        services.publish_post(account_id=account.pk, post=ChannelPost(idempotency_key="job-2", text="Hi"))

    assert raised.value.retry_after == 3600
    assert len(fake_providers.CALLS) == 1


def test_metrics_come_from_the_channel_account(fake_providers):
    account = _channel()

    metrics = services.fetch_post_metrics(account_id=account.pk, external_ids=["ext-1"])

    assert [(m.external_id, m.impressions) for m in metrics] == [("ext-1", 10)]


def test_metrics_of_a_channel_without_statistics_are_empty(fake_providers):
    account = ProviderAccountFactory(name="apollo")

    assert services.fetch_post_metrics(account_id=account.pk, external_ids=["ext-1"]) == []


def _mailbox(fakes, uids):
    fakes.FakeInboxAdapter.MAILBOX = [InboundMessage(uid=u, kind="reply", message_id=f"<{u}@x>") for u in uids]


def test_inbox_messages_are_read_until_the_cursor_moves(fake_providers):
    account = ProviderAccountFactory(name="imap", capability=Capability.INBOX_READING, adapter="test_inbox")
    _mailbox(fake_providers, [3, 5, 8])

    first = [m.uid for m in services.read_inbox(account.pk)]
    services.inbox_cursor_advance(account.pk, 5)
    second = [m.uid for m in services.read_inbox(account.pk)]
    services.inbox_cursor_advance(account.pk, 8)
    services.inbox_cursor_advance(account.pk, 3)

    assert first == [3, 5, 8]
    assert second == [8], "a processed message is not read again, an unprocessed one is not lost"
    assert services.read_inbox(account.pk) == []
    assert InboxCursor.objects.get(pk=account.pk).last_uid == 8, "the cursor never moves backwards"


def _numbered(fakes, uids, *, validity):
    return [InboundMessage(uid=u, kind="reply", message_id=f"<{u}@x>", uid_validity=validity) for u in uids]


def test_renumbered_mailbox_starts_again_from_the_first_message(fake_providers):
    account = ProviderAccountFactory(name="imap", capability=Capability.INBOX_READING, adapter="test_inbox")
    fake_providers.FakeInboxAdapter.VALIDITY = 100
    fake_providers.FakeInboxAdapter.MAILBOX = _numbered(fake_providers, (4, 9), validity=100)
    assert [m.uid for m in services.read_inbox(account.pk)] == [4, 9]
    services.inbox_cursor_advance(account.pk, 9)
    assert services.read_inbox(account.pk) == []

    fake_providers.FakeInboxAdapter.VALIDITY = 200
    fake_providers.FakeInboxAdapter.MAILBOX = _numbered(fake_providers, (1, 2), validity=200)
    again = [m.uid for m in services.read_inbox(account.pk)]

    assert again == [1, 2], "UIDs of the old numbering mean nothing: every message is read again"
    cursor = InboxCursor.objects.get(pk=account.pk)
    assert (cursor.last_uid, cursor.uid_validity) == (0, 200)


def test_probe_records_health_and_ignores_an_open_breaker(fake_providers):
    account = ProviderAccountFactory(name="apollo")
    ProviderHealth.objects.filter(pk=account.pk).update(breaker_state="open", consecutive_failures=5)

    outcome = services.account_probe(account=account)

    assert outcome.ok and outcome.detail == "apollo answers"
    assert ProviderHealth.objects.get(pk=account.pk).breaker_state == "closed"


def test_failed_probe_gives_advice(fake_providers):
    account = ProviderAccountFactory(name="apollo")
    fake_providers.script("apollo", ProviderUnavailable("unauthorised", status=401))

    outcome = services.account_probe(account=account)

    assert not outcome.ok
    assert outcome.advice == "the API key is wrong or revoked; update it in Provider accounts"


def test_update_refuses_fields_that_are_not_editable():
    account = ProviderAccountFactory(name="apollo")

    with pytest.raises(DomainError, match="credentials_encrypted"):
        services.account_update(account=account, credentials_encrypted="x")
