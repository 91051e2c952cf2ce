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


def test_self_check_json_on_demo_data_covers_every_capability():
    demo.seed()
    out = io.StringIO()

    call_command("self_check", "--json", stdout=out)

    document = json.loads(out.getvalue())
    reports = {c["capability"]: c for c in document["capabilities"]}
    assert set(reports) == {key for key, _ in Capability.CHOICES}
    assert all(report["in_use"] and report["ok"] for report in reports.values())
    assert all(p["fallback"] for report in reports.values() for p in report["providers"])
    assert document["ok"] is True


def test_self_check_table_marks_fallbacks():
    demo.seed()
    out = io.StringIO()

    call_command("self_check", stdout=out)

    lines = out.getvalue().splitlines()
    enrichment = next(line for line in lines if line.startswith("Lead enrichment"))
    assert "Placeholder: enriches no one" in enrichment and "fallback: not probed" in enrichment
    assert lines[-1] == "Every capability in use has a healthy provider."


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
