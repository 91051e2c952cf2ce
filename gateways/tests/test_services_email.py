import pytest

from gateways import services
from gateways.capabilities import Capability, OutgoingEmail
from gateways.errors import (
    NoProviderAvailable,
    NoProviderConfigured,
    OutcomeUnknown,
    ProviderRejected,
    ProviderUnavailable,
)
from gateways.models import ProviderHealth
from gateways.tests.factories import ProviderAccountFactory

pytestmark = pytest.mark.django_db


def _sender(name, priority):
    return ProviderAccountFactory(name=name, priority=priority, capability=Capability.EMAIL_SENDING,
                                  adapter="test_sending")


def _mail(n):
    return OutgoingEmail(to=f"person{n}@example.com", subject="Hello", text="Hi", message_id=f"<{n}@aicmo>")


def test_one_connection_is_reused_for_the_batch(fake_providers):
    _sender("smtp-a", 1)

    with services.open_email_session() as session:
        receipts = [session.send(_mail(n)) for n in range(3)]

    assert [r.message_id for r in receipts] == ["<0@aicmo>", "<1@aicmo>", "<2@aicmo>"]
    assert [c[1] for c in fake_providers.CALLS] == ["open", "send", "send", "send", "close"]
    assert session.failovers == 0


def test_connection_failure_before_acceptance_moves_to_the_next_account(fake_providers):
    primary = _sender("smtp-a", 1)
    _sender("smtp-b", 2)
    fake_providers.script("smtp-a", None, None, ProviderUnavailable("connection lost before DATA"))

    with services.open_email_session() as session:
        first = session.send(_mail(1))
        second = session.send(_mail(2))

    assert (first.provider, second.provider) == ("smtp-a", "smtp-b")
    assert session.failovers == 1
    assert [c for c in fake_providers.CALLS if c[1] == "send"] == [
        ("smtp-a", "send", "person1@example.com"),
        ("smtp-a", "send", "person2@example.com"),
        ("smtp-b", "send", "person2@example.com"),
    ]
    assert ProviderHealth.objects.get(pk=primary.pk).consecutive_failures == 1


def test_refused_connection_opens_the_next_account(fake_providers):
    _sender("smtp-a", 1)
    _sender("smtp-b", 2)
    fake_providers.script("smtp-a", ProviderUnavailable("[Errno 111] Connection refused"))

    with services.open_email_session() as session:
        receipt = session.send(_mail(1))

    assert receipt.provider == "smtp-b"
    assert session.attempts == [("smtp-a", "[Errno 111] Connection refused")]


def test_unknown_outcome_is_raised_and_never_sent_elsewhere(fake_providers):
    _sender("smtp-a", 1)
    _sender("smtp-b", 2)
    fake_providers.script("smtp-a", None, OutcomeUnknown("connection lost after DATA"))

    with services.open_email_session() as session:
        with pytest.raises(OutcomeUnknown):
            session.send(_mail(1))
        retry = session.send(_mail(2))

    assert not any(c[0] == "smtp-b" for c in fake_providers.CALLS)
    assert retry.provider == "smtp-a", "the next message reconnects to the same account"


def test_refused_recipient_is_raised_and_the_session_goes_on(fake_providers):
    _sender("smtp-a", 1)
    fake_providers.script("smtp-a", None, ProviderRejected("550 no such user"))

    with services.open_email_session() as session:
        with pytest.raises(ProviderRejected):
            session.send(_mail(1))
        assert session.send(_mail(2)).provider == "smtp-a"

    assert [c[1] for c in fake_providers.CALLS].count("open") == 1


def test_no_sending_account_is_never_reported_as_sent(fake_providers):
    with services.open_email_session() as session:
        with pytest.raises(NoProviderConfigured, match="skipped: no provider configured"):
            session.send(_mail(1))


def test_every_account_failing_raises(fake_providers):
    _sender("smtp-a", 1)
    fake_providers.script("smtp-a", ProviderUnavailable("refused"))

    with services.open_email_session() as session:
        with pytest.raises(NoProviderAvailable, match="smtp-a: refused"):
            session.send(_mail(1))
