"""The back-office preview of a send as any contact, and its test send, through the site's own routes."""

import pytest

from aicmo_site.roles import ANALYST, MARKETER
from crm.tests.factories import ContactFactory
from publishing.email.models import EmailDelivery
from publishing.tests.email.factories import EmailCampaignFactory, smtp_account

pytestmark = pytest.mark.django_db


def test_preview_shows_the_email_as_the_chosen_contact_reads_it(logged_in):
    send = EmailCampaignFactory()
    ContactFactory(email="ines@client.example", first_name="Ines")
    client = logged_in(ANALYST)
    detail = client.get(f"/email/campaigns/{send.campaign_id}/")
    assert f"/email/campaigns/{send.campaign_id}/preview/".encode() in detail.content

    page = client.get(f"/email/campaigns/{send.campaign_id}/preview/", {"contact": "Ines@Client.example"})

    assert page.status_code == 200
    assert page.context["rendered"].subject == "Hello Ines"
    assert b"Preview as ines@client.example" in page.content
    # The email's HTML is shown escaped inside a sandboxed srcdoc, never as part of the back office's own page.
    assert b"<iframe title=\"HTML version\" sandbox srcdoc=\"&lt;" in page.content
    assert b"Send a test" not in page.content  # an analyst may look, not send
    # At phone and desktop widths and in dark mode, as the template's own preview shows it.
    html = page.content.decode()
    assert 'title="HTML version at phone width" sandbox srcdoc="&lt;' in html and 'data-width="390"' in html
    assert 'data-width="800"' in html
    assert 'title="HTML version in dark mode"' in html and 'id="dark-findings"' in html
    assert page.context["dark_findings"]


def test_an_unknown_contact_is_a_form_error_and_sample_data_is_shown(logged_in):
    send = EmailCampaignFactory()
    page = logged_in(MARKETER).get(f"/email/campaigns/{send.campaign_id}/preview/", {"contact": "nobody@x.example"})
    assert page.status_code == 200
    assert b"No contact has this address." in page.content
    assert b"Preview with sample data" in page.content


def test_test_send_goes_to_the_chosen_addresses_as_the_contact(logged_in, smtp_server):
    smtp_account(smtp_server)
    send = EmailCampaignFactory()
    ContactFactory(email="ines@client.example", first_name="Ines")
    client = logged_in(MARKETER)

    response = client.post(f"/email/campaigns/{send.campaign_id}/preview/",
                           {"contact": "ines@client.example", "to": "me@aicmo.example,\nboss@aicmo.example"})

    assert response.status_code == 302 and "contact=ines%40client.example" in response["Location"]
    assert sorted(smtp_server.recipients()) == ["boss@aicmo.example", "me@aicmo.example"]
    assert all(m.message()["Subject"] == "[Test] Hello Ines" for m in smtp_server.messages)
    assert not EmailDelivery.objects.exists()
    assert b"Test sent to 2 addresses." in client.get(response["Location"]).content


def test_bad_test_addresses_are_named_and_nothing_is_sent(logged_in, smtp_server):
    smtp_account(smtp_server)
    send = EmailCampaignFactory()
    client = logged_in(MARKETER)
    page = client.post(f"/email/campaigns/{send.campaign_id}/preview/", {"to": "me@aicmo.example, not-an-address"})
    assert page.status_code == 200
    assert b"Not an email address: not-an-address." in page.content
    too_many = ", ".join(f"p{n}@aicmo.example" for n in range(21))
    page = client.post(f"/email/campaigns/{send.campaign_id}/preview/", {"to": too_many})
    assert b"at most 20 addresses; 21 were given" in page.content
    assert smtp_server.messages == []


def test_an_analyst_cannot_send_a_test(logged_in, smtp_server):
    send = EmailCampaignFactory()
    response = logged_in(ANALYST).post(f"/email/campaigns/{send.campaign_id}/preview/", {"to": "me@aicmo.example"})
    assert response.status_code == 403 and smtp_server.messages == []
