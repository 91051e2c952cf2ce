"""Email sessions write provider health once a second, not once per message; the result is the
same as per-call recording, and a failure never lands before the successes that came first."""

import pytest

from gateways import health, services
from gateways.capabilities import Capability, OutgoingEmail
from gateways.errors import ProviderUnavailable
from gateways.models import ProviderHealth
from gateways.tests.factories import ProviderAccountFactory

pytestmark = pytest.mark.django_db


def _sender(name, priority=1):
    return ProviderAccountFactory(name=name, priority=priority, capability=Capability.EMAIL_SENDING,
                                  adapter="test_sending")


def _mail(n):
    return OutgoingEmail(to=f"p{n}@example.com", subject="Hi", text="Hi", message_id=f"<{n}@aicmo>")


def _state(account):
    row = ProviderHealth.objects.get(pk=account.pk)
    return row.calls, round(row.success_rate, 9), round(row.latency_ms, 6), row.consecutive_failures


def test_several_successes_at_once_move_the_averages_like_single_ones(fake_providers):
    one_by_one, together = _sender("a"), _sender("b", 2)
    health.record_failure(one_by_one.pk, ProviderUnavailable("down"), latency_ms=100.0)
    health.record_failure(together.pk, ProviderUnavailable("down"), latency_ms=100.0)
    for _ in range(3):
        health.record_success(one_by_one.pk, latency_ms=20.0)
    health.record_successes(together.pk, count=3, mean_latency_ms=20.0)
    assert _state(one_by_one) == _state(together)
    assert _state(together)[3] == 0


def test_a_session_writes_health_in_one_go_and_keeps_outcomes_in_order(fake_providers, django_assert_num_queries):
    account = _sender("smtp-a")
    _sender("smtp-b", 2)
    # The connection opens, four messages go out, the fifth finds the connection lost.
    fake_providers.script("smtp-a", None, None, None, None, None, ProviderUnavailable("connection lost before DATA"))
    with services.open_email_session() as session:
        session.send(_mail(0))  # connects: reads health, records the open
        with django_assert_num_queries(0):  # the next messages write no health row each
            for n in range(1, 4):
                session.send(_mail(n))
        session.send(_mail(4))  # fails on smtp-a after its successes, goes out through smtp-b

    calls, _, _, consecutive_failures = _state(account)
    assert calls == 1 + 4 + 1  # the open, four messages, the failure
    assert consecutive_failures == 1  # the failure came last, so it is what remains
