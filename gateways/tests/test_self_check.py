import io
import json

import pytest
from django.core.management import CommandError, call_command

from gateways.capabilities import Capability
from gateways.errors import ProviderUnavailable
from gateways.models import ProviderHealth
from gateways.tests.factories import ProviderAccountFactory

pytestmark = pytest.mark.django_db


def _run(*args) -> tuple[str, str | None]:
    out = io.StringIO()
    try:
        call_command("self_check", *args, stdout=out)
    except CommandError as exc:
        return out.getvalue(), str(exc)
    return out.getvalue(), None


def test_probes_every_enabled_account_and_passes_when_each_capability_answers(fake_providers):
    ProviderAccountFactory(name="apollo")
    ProviderAccountFactory(name="off", enabled=False)

    out, error = _run()

    assert error is None
    assert [call[:2] for call in fake_providers.CALLS] == [("apollo", "probe")]
    assert "apollo" in out and "healthy" in out
    assert "Every capability in use has a healthy provider." in out


def test_failing_primary_shows_down_with_advice_and_exits_non_zero(fake_providers):
    ProviderAccountFactory(name="apollo")
    fake_providers.script("apollo", ProviderUnavailable("unauthorised", status=401))

    out, error = _run("--json")

    document = json.loads(out)
    enrichment = next(c for c in document["capabilities"] if c["capability"] == "lead_enrichment")
    provider = enrichment["providers"][0]
    assert provider["probe"]["ok"] is False
    assert provider["advice"] == "the API key is wrong or revoked; update it in Provider accounts"
    assert document["ok"] is False and enrichment["ok"] is False
    assert error == "No healthy real provider for: Lead enrichment (degraded)."


def test_status_calls_no_one_and_reports_stored_health(fake_providers):
    account = ProviderAccountFactory(name="smtp", capability=Capability.EMAIL_SENDING, adapter="test_sending")
    ProviderHealth.objects.filter(pk=account.pk).update(breaker_state="open", consecutive_failures=5, calls=5,
                                                        last_error="ProviderUnavailable: refused",
                                                        last_advice="nothing answers at the provider's address")

    out, error = _run("--status")

    assert fake_providers.CALLS == []
    assert "smtp" in out and "down" in out and "nothing answers at the provider's address" in out
    assert error == "No healthy real provider for: Email sending (down)."


def test_unused_capabilities_do_not_fail_the_check(fake_providers):
    out, error = _run("--status", "--json")

    document = json.loads(out)
    assert error is None and document["ok"] is True
    assert {c["capability"] for c in document["capabilities"]} == {key for key, _ in Capability.CHOICES}
    assert all(c["in_use"] is False for c in document["capabilities"])


def test_watch_refreshes_until_stopped(fake_providers):
    ProviderAccountFactory(name="apollo")

    out, error = _run("--watch", "0.01", "--count", "3")

    assert error is None
    assert [call[1] for call in fake_providers.CALLS] == ["probe"] * 3
    assert out.count("Every capability in use has a healthy provider.") == 3


def test_watch_needs_a_positive_interval():
    _, error = _run("--watch", "0")

    assert "--watch" in error
