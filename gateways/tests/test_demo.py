import io
import json

import pytest
from django.core.management import call_command

from gateways import demo, services
from gateways.capabilities import Capability, ChannelPost, OutgoingEmail, PersonQuery
from gateways.errors import NoProviderConfigured
from gateways.models import ProviderAccount, ProviderHealth

pytestmark = pytest.mark.django_db


def test_seed_is_idempotent():
    first = demo.seed()
    second = demo.seed()

    assert first.startswith(f"provider accounts: {len(demo.DEMO_ACCOUNTS)} created")
    assert second.startswith(f"provider accounts: 0 created, {len(demo.DEMO_ACCOUNTS)} already there")
    assert ProviderAccount.objects.count() == len(demo.DEMO_ACCOUNTS)


def test_placeholders_are_named_as_such_and_earlier_demo_names_are_renamed_not_duplicated():
    services.account_create(capability=Capability.EMAIL_SENDING, adapter="noop_email_sending", name="Demo: no sending",
                   priority=1000)

    demo.seed()

    names = dict(ProviderAccount.objects.values_list("adapter", "name"))
    assert names["noop_email_sending"] == "Placeholder: sends nothing"
    assert ProviderAccount.objects.count() == len(demo.DEMO_ACCOUNTS)
    assert all(name.startswith(("Placeholder: ", "Manual: ")) for name in names.values())


def test_self_check_json_on_demo_accounts_calls_no_placeholder_healthy():
    demo.seed()
    out = io.StringIO()

    call_command("self_check", "--json", stdout=out)

    document = json.loads(out.getvalue())
    reports = {c["capability"]: c for c in document["capabilities"]}
    assert set(reports) == {key for key, _ in Capability.CHOICES}
    assert {key: report["status"] for key, report in reports.items()} == {
        **{key: "not_configured" for key, _ in Capability.CHOICES}, "channel_posting": "manual"}
    assert all(not p["probe"]["probed"] and not p["probe"]["ok"] for r in reports.values() for p in r["providers"])
    # Nothing needs them yet, so nothing is failing; but nothing is called healthy either.
    assert not any(report["in_use"] for report in reports.values()) and document["ok"] is True
    assert not ProviderHealth.objects.filter(calls__gt=0).exists(), "a placeholder is never called by a probe"


def test_self_check_table_says_not_configured_and_never_healthy():
    demo.seed()
    out = io.StringIO()

    call_command("self_check", stdout=out)
    call_command("self_check", "--status", stdout=out)

    text = out.getvalue()
    enrichment = next(line for line in text.splitlines() if line.startswith("Lead enrichment"))
    assert "Placeholder: enriches no one" in enrichment and "not configured" in enrichment
    assert "add a real lead enrichment account" in enrichment
    assert "healthy provider" not in text and "No capability is in use yet." in text


def test_demo_fallbacks_skip_and_never_pretend():
    demo.seed()

    enrichment = services.enrich_people([PersonQuery(ref="1", email="ada@example.com")])
    with services.open_email_session() as session, pytest.raises(NoProviderConfigured):
        session.send(OutgoingEmail(to="ada@example.com", subject="Hi", text="Hi"))
    linkedin = ProviderAccount.objects.get(adapter="manual_linkedin")
    post = services.publish_post(account_id=linkedin.pk, post=ChannelPost(idempotency_key="k", text="Hello"))

    assert enrichment.skipped and enrichment.reason == "skipped: no provider configured"
    assert enrichment.value is None
    assert post.value.status == "awaiting_manual" and post.value.draft.startswith("Hello")
    assert not ProviderHealth.objects.filter(failures__gt=0).exists(), "a skip is not an outage"
