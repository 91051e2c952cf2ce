"""A subscription form end to end, in a real browser: built in the back office, its embed snippet pasted
into a page of another site (a second loopback origin), sent from there, the confirmation email sent by a
real django-q2 worker to a real SMTP server, its link opened and confirmed; then what the protections
stop: a site not allowed, a forged token, a honeypot hit, a too-fast sending and too many sendings."""

import time

import pytest
from django.core.cache import cache

from aicmo_site.testing.worker import wait_for
from crm import services
from crm.choices import ConsentStatus
from crm.form_models import FormSubmission, SubscriptionForm
from crm.models import Contact
from crm.services import forms as form_services
from crm.tests.factories import TagFactory
from gateways import services as gateway_services
from gateways.capabilities import Capability
from tests.browser import PASSWORD, axe_violations, horizontal_overflow, log_in

pytestmark = [pytest.mark.browser, pytest.mark.worker, pytest.mark.django_db(transaction=True)]
CONSENT = "I agree to receive the monthly newsletter and can unsubscribe at any time."
STATUS = "form[data-aicmo-form] [data-aicmo-status]"


def fits_and_passes_axe(page, what: str) -> None:
    assert horizontal_overflow(page) <= 0, what
    assert axe_violations(page) == [], what


def embed_page(snippet: str) -> str:
    return (f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Shop</title></head>'
            f"<body><main><h1>Our shop</h1>{snippet}</main></body></html>")


def send_from(page, url: str, *, email: str, wait: float = 1.2, before_send: str = "") -> str:
    """Opens the embedding page, fills the form as a person would and returns what the form then says."""
    page.goto(url)
    page.wait_for_function("document.querySelector('form[data-aicmo-form] input[name=token]').value !== ''")
    page.fill("input[name=email]", email)
    page.fill("input[name=first_name]", "Ada")
    page.check("input[name=topics][value=ai]")
    time.sleep(wait)
    if before_send:
        page.evaluate(before_send)
    page.click("form[data-aicmo-form] button[type=submit]")
    page.wait_for_function(f"document.querySelector('{STATUS}').textContent.trim() !== ''")
    return page.inner_text(STATUS)


@pytest.fixture
def phone(browser):
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.set_default_timeout(15000)
    yield page
    context.close()


def test_embedded_form_double_opt_in_and_its_protections(live_server, phone, make_user, qcluster, smtp_server,
                                                         httpserver, settings):
    cache.clear()
    settings.CRM_FORM_RATE_PER_EMAIL = 1
    make_user("mia", role="Marketer", password=PASSWORD)
    services.topic_create(name="AI", slug="ai")
    TagFactory(name="newsletter")
    gateway_services.account_create(capability=Capability.EMAIL_SENDING, adapter="smtp", name="smtp-test",
                                    priority=10, settings=smtp_server.adapter_settings(from_email="news@aicmo.example"))
    shop = httpserver.url_for("/").rstrip("/")

    log_in(phone, live_server.url, "mia", "/contacts/forms/")
    fits_and_passes_axe(phone, "the empty list of forms")
    phone.click("text=New form")
    phone.click("#subscription-form-edit button[type=submit]")
    phone.wait_for_selector("#error-consent_text")
    fits_and_passes_axe(phone, "the new form with its errors named")
    phone.fill("#id_name", "Newsletter")
    phone.check("#field-fields input[value=first_name]")
    phone.check("#field-topics input[type=checkbox]")
    phone.check("#field-tags input[type=checkbox]")
    phone.fill("#id_consent_text", CONSENT)
    phone.fill("#id_allowed_origins", shop)
    phone.fill("#id_min_seconds", "1")
    phone.click("#subscription-form-edit button[type=submit]")
    phone.wait_for_selector("#embed-snippet")
    fits_and_passes_axe(phone, "the form's page")
    snippet = phone.input_value("#embed-snippet")
    form = SubscriptionForm.objects.get(name="Newsletter")
    assert form.double_opt_in and form.allowed_origins == [shop]
    httpserver.expect_request("/signup.html").respond_with_data(embed_page(snippet), content_type="text/html")

    qcluster(PUBLIC_BASE_URL=live_server.url)
    told = send_from(phone, f"{shop}/signup.html", email="ada@example.org")
    assert told == form_services.CHECK_INBOX
    contact = Contact.objects.get(email="ada@example.org")
    assert contact.consent_status == ConsentStatus.PENDING
    wait_for(lambda: len(smtp_server.messages) == 1, timeout=60, message="the confirmation email at the SMTP server")
    body = smtp_server.messages[0].message().get_body(("plain",)).get_content()
    link = next(word for word in body.split() if "/f/confirm/" in word)
    assert link.startswith(live_server.url)

    phone.goto(link)
    fits_and_passes_axe(phone, "the confirmation page")
    phone.click("text=Confirm my subscription")
    phone.wait_for_selector("#confirm-result")
    assert "is subscribed" in phone.inner_text("#confirm-result")
    fits_and_passes_axe(phone, "the confirmed page")
    contact.refresh_from_db()
    assert contact.consent_status == ConsentStatus.SUBSCRIBED
    assert [topic.slug for topic in contact.topics.all()] == ["ai"]
    assert [tag.name for tag in contact.tags.all()] == ["newsletter"]
    record = FormSubmission.objects.get()
    assert record.confirmed_at and record.confirmed_ip in ("127.0.0.1", "::1")
    assert "Chrome" in record.confirmed_user_agent
    assert record.consent_text == CONSENT and record.topics == ["ai"] and record.origin == shop
    phone.goto(link)
    assert "is subscribed" in phone.inner_text("#confirm-result"), "opening the link again is harmless"
    time.sleep(1)
    assert len(smtp_server.messages) == 1, "one confirmation email, however long the worker runs"

    # Another site (same server, other host name: another origin) gets no token and cannot post.
    elsewhere = shop.replace("localhost", "127.0.0.1")
    phone.goto(f"{elsewhere}/signup.html")
    phone.wait_for_function(f"document.querySelector('{STATUS}').textContent.trim() !== ''")
    assert phone.inner_text(STATUS) == "This form cannot be used on this site."

    forged = send_from(phone, f"{shop}/signup.html", email="bot1@example.org",
                       before_send="document.querySelector('input[name=token]').value = 'forged'")
    assert "could not be checked" in forged
    trapped = send_from(phone, f"{shop}/signup.html", email="bot2@example.org",
                        before_send="document.querySelector('input[name=website]').value = 'http://spam.example'")
    assert trapped == form_services.CHECK_INBOX
    services.form_update(form=form, min_seconds=30)
    too_fast = send_from(phone, f"{shop}/signup.html", email="bot3@example.org", wait=0)
    assert too_fast == form_services.CHECK_INBOX
    assert not Contact.objects.filter(email__startswith="bot").exists() and FormSubmission.objects.count() == 1

    services.form_update(form=form, min_seconds=1)
    again = send_from(phone, f"{shop}/signup.html", email="ada@example.org")
    assert again == "Too many sign-ups from here in a short time. Please try again in an hour."

    phone.goto(f"{live_server.url}/f/{form.slug}/")
    fits_and_passes_axe(phone, "the hosted page")
    phone.goto(f"{live_server.url}/contacts/forms/")
    assert phone.inner_text("#forms tbody tr td:nth-child(4)") == "1"
    fits_and_passes_axe(phone, "the list of forms")
