"""Support answering "why was this address suppressed?" in a real browser: from a send's page to a
delivery's page, which shows the bounce classified as classify_mail does, on a phone-wide screen."""

import pytest

from gateways.mail import parse_inbound
from gateways.testing.corpus import corpus_message
from publishing.email.choices import DeliveryStatus
from publishing.email.inbox import inbound_message_apply
from publishing.tests.email.factories import EmailCampaignFactory, EmailDeliveryFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "a-long-password-1"


def test_from_the_send_to_the_classified_bounce_of_one_delivery_on_a_phone(live_server, browser, make_user):
    make_user("sam", role="Analyst", password=PASSWORD)
    send = EmailCampaignFactory(campaign__name="November news")
    delivery = EmailDeliveryFactory(campaign=send.campaign, contact__email="gone@example.org",
                                    status=DeliveryStatus.SENT, message_id="<d42@mail.aicmo.example>")
    raw = corpus_message("postfix.eml", message_id=delivery.message_id)
    assert inbound_message_apply(parse_inbound(raw, uid=1), source="inbox:1") == 1

    context = browser.new_context(viewport={"width": 390, "height": 800})
    page = context.new_page()
    page.set_default_timeout(15000)
    try:
        page.goto(f"{live_server.url}/accounts/login/?next=/email/campaigns/{send.campaign_id}/")
        page.fill("#id_username", "sam")
        page.fill("#id_password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_selector("#feedback")
        assert page.inner_text("[data-field=hard_bounces]") == "1"
        page.click("text=gone@example.org")
        page.wait_for_selector("#inbound-events")
        assert page.inner_text("#suppression") == "Suppressed: bounced"
        row = page.inner_text("#inbound-events tbody tr")
        for text in ("Bounce", "gone@example.org", "hard", "5.1.1", "User unknown in virtual mailbox table"):
            assert text in row
        # The page's own content fits its column and the wide table scrolls inside it. (The shell's
        # fixed sidebar makes every back-office page wider than a phone: not this page's to fix.)
        assert page.evaluate("(m => m.scrollWidth <= m.clientWidth)(document.querySelector('main'))")
    finally:
        context.close()
