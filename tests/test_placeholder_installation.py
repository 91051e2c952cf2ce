"""A new installation with only the demo's placeholder providers: nothing says ready or healthy, a send
refuses to start and says why, and after a real SMTP account (aiosmtpd on loopback) is added the same
send goes out. A send whose provider goes away pauses with the reason instead of waiting forever."""

import io
import json

import pytest
from django.core.management import CommandError, call_command

from crm.tests.factories import ContactFactory
from gateways import demo
from gateways.models import ProviderAccount, ProviderHealth
from publishing.email.choices import DeliveryStatus, SendStatus
from publishing.email.models import EmailCampaign, EmailDelivery
from publishing.email.sender import worker_run
from publishing.email.services import email_campaign_checklist, email_campaign_resume, email_campaign_send
from publishing.tests.email.factories import smtp_account
from publishing.tests.email.helpers import campaign_for

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def email_settings(settings):
    settings.PUBLIC_BASE_URL = "https://aicmo.example"
    settings.EMAIL_UNSUBSCRIBE_MAILTO = "unsubscribe@aicmo.example"
    settings.EMAIL_MESSAGE_ID_DOMAIN = "mail.aicmo.example"


def self_check(*args) -> tuple[dict, str | None]:
    out = io.StringIO()
    try:
        call_command("self_check", "--json", *args, stdout=out)
    except CommandError as exc:
        return json.loads(out.getvalue()), str(exc)
    return json.loads(out.getvalue()), None


def capability(document: dict, key: str) -> dict:
    return next(c for c in document["capabilities"] if c["capability"] == key)


def statuses(email_campaign) -> list[str]:
    return sorted(EmailDelivery.objects.filter(campaign=email_campaign.campaign).values_list("status", flat=True))


def test_placeholders_say_not_configured_a_send_refuses_then_goes_out_through_real_smtp(smtp_server, admin_client):
    demo.seed()
    contacts = [ContactFactory() for _ in range(3)]
    email_campaign = campaign_for(contacts)

    probed, probe_error = self_check()
    stored, status_error = self_check("--status")
    api = admin_client.get("/api/providers/health/").json()
    sender = next(item for item in email_campaign_checklist(email_campaign) if item["key"] == "sender")
    with pytest.raises(Exception) as refused:
        email_campaign_send(email_campaign=email_campaign)

    for document in (probed, stored, api):
        assert capability(document, "email_sending")["status"] == "not_configured"
        assert capability(document, "email_sending")["providers"][0]["status"] == "not_configured"
    assert probe_error is None and status_error is None  # nothing needs sending yet
    assert not ProviderHealth.objects.filter(calls__gt=0).exists()
    assert sender["ok"] is False
    assert "Placeholder: sends nothing" in sender["detail"] and "does nothing real" in sender["detail"]
    assert sender["fix_url"] == "/providers/new/?capability=email_sending"
    assert refused.value.code == "checklist_failed"
    assert "Placeholder: sends nothing does nothing real" in refused.value.message
    assert EmailCampaign.objects.get(pk=email_campaign.pk).status == SendStatus.DRAFT

    smtp_account(smtp_server)
    email_campaign_send(email_campaign=email_campaign)
    in_use, error = self_check("--status")  # a send is under way and the new account was never called
    assert error.startswith("No healthy real provider for: Email sending (not called yet, needed by")
    assert capability(in_use, "email_sending")["uses"] and in_use["ok"] is False
    report = worker_run(email_campaign_id=email_campaign.pk, budget_seconds=60)

    assert report.sent == 3 and sorted(smtp_server.recipients()) == sorted(c.email for c in contacts)
    assert EmailCampaign.objects.get(pk=email_campaign.pk).status == SendStatus.COMPLETED
    assert statuses(email_campaign) == [DeliveryStatus.SENT] * 3
    assert self_check("--status")[1] is None


def test_a_send_whose_provider_goes_away_pauses_with_the_reason(smtp_server):
    demo.seed()
    account = smtp_account(smtp_server)
    contacts = [ContactFactory() for _ in range(4)]
    email_campaign = campaign_for(contacts)
    email_campaign_send(email_campaign=email_campaign)
    later = [c.pk for c in contacts[2:]]
    EmailDelivery.objects.filter(campaign=email_campaign.campaign, contact_id__in=later).update(held=True)
    worker_run(email_campaign_id=email_campaign.pk, budget_seconds=60)  # the first two go out

    ProviderAccount.objects.filter(pk=account.pk).update(enabled=False)
    EmailDelivery.objects.filter(campaign=email_campaign.campaign).update(held=False)
    report = worker_run(email_campaign_id=email_campaign.pk, budget_seconds=60)

    email_campaign.refresh_from_db()
    note = email_campaign.events.order_by("-pk").first().note
    waiting = EmailDelivery.objects.filter(campaign=email_campaign.campaign, status=DeliveryStatus.QUEUED)
    assert report.stopped_because == "no provider configured" and report.sent == 0
    assert email_campaign.status == SendStatus.PAUSED
    assert note.startswith("Paused: no email sending provider can send.") and "Placeholder: sends nothing" in note
    assert statuses(email_campaign) == [DeliveryStatus.QUEUED] * 2 + [DeliveryStatus.SENT] * 2
    assert all(d.attempts == 0 and not d.lease_owner for d in waiting), "no attempt spent on a missing provider"
    with pytest.raises(Exception) as refused:
        email_campaign_resume(email_campaign=email_campaign)
    assert refused.value.code == "no_provider"

    ProviderAccount.objects.filter(pk=account.pk).update(enabled=True)
    email_campaign_resume(email_campaign=email_campaign)
    worker_run(email_campaign_id=email_campaign.pk, budget_seconds=60)
    assert statuses(email_campaign) == [DeliveryStatus.SENT] * 4
    assert len(smtp_server.recipients()) == 4


def test_a_placeholder_ranked_above_a_real_account_does_not_hide_it(smtp_server):
    demo.seed()
    ProviderAccount.objects.filter(adapter="noop_email_sending").update(priority=1)
    smtp_account(smtp_server, priority=10)
    contacts = [ContactFactory() for _ in range(2)]
    email_campaign = campaign_for(contacts)
    email_campaign_send(email_campaign=email_campaign)

    report = worker_run(email_campaign_id=email_campaign.pk, budget_seconds=60)

    assert report.sent == 2 and statuses(email_campaign) == [DeliveryStatus.SENT] * 2
    assert sorted(smtp_server.recipients()) == sorted(c.email for c in contacts)
