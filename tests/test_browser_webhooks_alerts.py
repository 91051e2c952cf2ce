import pytest

from alerts.models import AlertChannel
from alerts.rules import RULES
from webhooks.models import WebhookSubscription

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def log_in(page, live_server, next_url):
    page.goto(f"{live_server.url}/accounts/login/?next={next_url}")
    page.fill("#id_username", "ada")
    page.fill("#id_password", "a-long-password-1")
    page.click("button[type=submit]")


def test_admin_adds_a_webhook_subscription_and_copies_its_secret_once(live_server, page, make_user):
    make_user("ada", role="Admin", password="a-long-password-1")
    log_in(page, live_server, "/webhooks/")
    page.wait_for_selector("#subscription-form")
    page.fill("#id_name", "Zapier")
    page.fill("#id_url", "https://hooks.example.org/in")
    page.check("input[name=events][value='contact.created']")
    page.check("input[name=events][value='alert.opened']")
    page.click("#subscription-form button[type=submit]")

    secret = page.locator("#signing-secret").input_value()
    subscription = WebhookSubscription.objects.get()
    assert secret == subscription.signing_secret() and secret.startswith("whsec_")
    page.click("text=Go to the subscription")
    page.wait_for_selector("#delivery-log, .empty")
    assert secret not in page.content()
    assert "Contact created, Alert opened" in page.inner_text("main")


def test_admin_adds_an_alert_channel_from_a_phone_sized_window(live_server, browser, make_user):
    make_user("ada", role="Admin", password="a-long-password-1")
    context = browser.new_context(viewport={"width": 390, "height": 800})
    page = context.new_page()
    try:
        log_in(page, live_server, "/alerts/")
        page.wait_for_selector("#channel-form")
        page.fill("#channel-form #id_name", "Ops Slack")
        page.select_option("#channel-form #id_kind", "slack")
        page.fill("#channel-form #id_target", "https://hooks.slack.com/services/x")
        page.click("#channel-form button[type=submit]")
        page.wait_for_selector("#channels")
        assert AlertChannel.objects.get().name == "Ops Slack"
        assert page.locator("#rules tbody tr").count() == len(RULES)
    finally:
        context.close()
