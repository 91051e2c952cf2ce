"""An email campaign in the back office, in a real browser: set it up in the admin, open it, preview it
as one contact, read the pre-send checklist, start the send and watch its progress while a real
django-q2 worker delivers to a real SMTP server."""

import json

import pytest

from aicmo_site.testing.worker import wait_for
from crm import services as crm_services
from crm.tests.factories import ContactFactory, TagFactory
from publishing.email.choices import SendStatus
from publishing.email.models import EmailCampaign
from publishing.email.services.blocks import email_block_create
from publishing.tests.email.factories import EmailTemplateFactory, smtp_account
from publishing.tests.factories import CampaignFactory

pytestmark = [pytest.mark.browser, pytest.mark.worker, pytest.mark.django_db(transaction=True)]
PASSWORD = "a-long-password-1"
WORKER_ENV = {"PUBLIC_BASE_URL": "https://aicmo.example", "EMAIL_BATCH_SIZE": "2", "EMAIL_SEND_CONCURRENCY": "1"}
NEWSLETTER = ('<html><body><p>Hi {{ contact.first_name|default:"there" }}</p>{{ blocks.articles }}'
              '<p><a href="{{ unsubscribe_url }}">Unsubscribe</a></p></body></html>')


def log_in(page, live_server, username, next_url):
    page.goto(f"{live_server.url}/accounts/login/?next={next_url}")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")


def preview(page, campaign_id: int, contact_id: int) -> dict:
    """The campaign's preview as this contact, asked by the page's own session (as a front end would)."""
    return page.evaluate("""async ([url, contact]) => {
        const token = document.querySelector("input[name=csrfmiddlewaretoken]").value;
        const response = await fetch(url, {method: "POST", credentials: "same-origin",
            headers: {"Content-Type": "application/json", "X-CSRFToken": token, Accept: "application/json"},
            body: JSON.stringify({contact})});
        return {status: response.status, body: await response.json()};
    }""", [f"/api/email-campaigns/{campaign_id}/preview/", contact_id])


def test_set_up_preview_check_send_and_watch_progress(live_server, page, make_user, qcluster, smtp_server):
    make_user("mia", role="Marketer", password=PASSWORD, is_staff=True)
    ai = crm_services.topic_create(name="AI", slug="ai")
    retail = crm_services.topic_create(name="Retail", slug="retail")
    template = EmailTemplateFactory(name="Topic digest", html_body=NEWSLETTER)
    for topic, article in ((ai, "Agents in production"), (retail, "Stores that stayed open")):
        email_block_create(template=template, slot="articles", html=f"<h2>{article}</h2>", topics=[topic])
    readers = TagFactory(name="readers")
    people = [ContactFactory(first_name=f"Reader{n}", tags=[readers]) for n in range(6)]
    for n, person in enumerate(people):
        crm_services.contact_topics_set(contact=person, topics=[ai if n % 2 else retail], source="test")
    campaign = CampaignFactory(name="Topic digest, May", audience={"tag_ids": [readers.pk]})

    log_in(page, live_server, "mia", "/admin/publishing/emailcampaign/add/")
    page.fill("#id_campaign", str(campaign.pk))
    page.select_option("#id_template", label="Topic digest")
    page.fill("#id_from_email", "news@aicmo.example")
    page.click("input[name=_save]")
    page.wait_for_selector(".messagelist .success")
    assert EmailCampaign.objects.get(campaign=campaign).status == SendStatus.DRAFT

    page.goto(f"{live_server.url}/email/campaigns/")
    page.click("text=Topic digest, May")
    page.wait_for_selector("#send-status")
    assert page.inner_text("#send-status") == "Draft"
    checklist = page.locator("text=Before sending").locator("..")
    missing = checklist.locator("li.bad")
    assert "Sending provider configured: No email sending provider is configured." in missing.inner_text()
    assert "Ask an Admin to add one." in missing.inner_text() and missing.locator("a").count() == 0, \
        "a Marketer is not sent to a page only Admins may open"

    smtp_account(smtp_server)
    page.reload()
    assert page.locator("li.bad").count() == 0
    assert page.locator("li.ok").count() == 5

    as_ai_reader = preview(page, campaign.pk, people[1].pk)
    assert as_ai_reader["status"] == 200, json.dumps(as_ai_reader)
    assert "Hi Reader1" in as_ai_reader["body"]["html"]
    assert "Agents in production" in as_ai_reader["body"]["html"]
    assert "Stores that stayed open" not in as_ai_reader["body"]["html"]

    qcluster(**WORKER_ENV)
    page.click("button[value=send]")
    page.click("text=Yes, send now")
    page.wait_for_selector(".messages >> text=Done: send", state="attached")
    # progress.js polls the progress endpoint every two seconds until the send stops.
    page.wait_for_function("document.getElementById('send-status').textContent.trim() === 'completed'",
                           timeout=90000)
    assert page.inner_text("[data-field=sent]") == "6"
    assert page.inner_text("[data-field=percent]") == "100"
    assert page.inner_text("[data-field=remaining]") == "0"

    wait_for(lambda: len(smtp_server.messages) == 6, timeout=10, message="six messages at the SMTP server")
    arrived = {mail.rcpt_tos[0]: mail.message().get_body(("html",)).get_content() for mail in smtp_server.messages}
    for n, person in enumerate(people):
        wanted, other = ("Agents in production", "Stores that stayed open")[::1 if n % 2 else -1]
        assert wanted in arrived[person.email] and other not in arrived[person.email]
