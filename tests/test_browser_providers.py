"""Provider accounts from the back office, in a real browser: an Admin follows a draft send's checklist to
add an SMTP account against a real SMTP server (aiosmtpd), tests it, and the checklist then says the
sender is configured. The Django admin is never opened."""

import re

import pytest

from crm.tests.factories import ContactFactory, TagFactory
from gateways.models import ProviderAccount
from publishing.tests.email.factories import EmailCampaignFactory
from publishing.tests.factories import CampaignFactory
from tests.test_browser_publishing import PASSWORD, log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_admin_adds_and_tests_an_smtp_account_and_the_send_is_then_ready(live_server, page, make_user,
                                                                             smtp_server):
    make_user("ada", role="Admin", password=PASSWORD)
    readers = TagFactory(name="readers")
    ContactFactory(tags=[readers])
    send = EmailCampaignFactory(campaign=CampaignFactory(name="May news", audience={"tag_ids": [readers.pk]}))
    send_page = f"/email/campaigns/{send.campaign_id}/"
    opened = []
    page.on("request", lambda request: opened.append(request.url))

    log_in(page, live_server, "ada", send_page)
    sender = page.locator("li", has_text="Sending provider configured")
    assert "bad" in sender.get_attribute("class")
    sender.get_by_role("link", name="Fix it").click()

    page.wait_for_url(re.compile(r"/providers/new/\?capability=email_sending$"))
    assert "Placeholder: sends nothing" in page.inner_text("#capability-email_sending")
    page.get_by_role("link", name="SMTP server", exact=True).click()
    page.wait_for_url(re.compile(r"/providers/new/smtp/$"))
    assert page.locator("#id_api_key, #id_base_url").count() == 0, "only the SMTP server's fields"
    page.fill("#id_name", "Office mail")
    page.fill("#id_setting__host", smtp_server.host)
    page.fill("#id_setting__port", str(smtp_server.port))
    page.fill("#id_setting__security", "none")
    page.fill("#id_setting__from_email", "news@aicmo.example")
    page.fill("#id_secret__password", "not-needed-but-kept")
    page.click("#save")

    account = ProviderAccount.objects.get(name="Office mail")
    page.wait_for_url(re.compile(rf"/providers/{account.pk}/edit/$"))
    assert "Not called yet. Next: test it" in page.inner_text("#next-step")
    assert page.input_value("#id_secret__password") == "", "a secret is never shown back"
    page.click("#test")
    page.wait_for_selector(".messages .success")
    assert page.inner_text(".messages .success").startswith("Office mail answers: 250")
    assert page.inner_text("#next-step h2") == "Status: healthy"
    assert "Healthy: email sending work goes through it." in page.inner_text("#next-step")

    page.goto(live_server.url + send_page)
    sender = page.locator("li", has_text="Sending provider configured")
    assert sender.get_attribute("class") == "ok" and sender.inner_text() == "Sending provider configured"
    assert not [url for url in opened if "/admin/" in url]
    account.refresh_from_db()
    assert (account.settings["host"], account.credential_names) == (smtp_server.host, ["password"])
