"""Email templates in the back office, in a real browser: write one, see the sandbox refuse a broken tag
on its field, fix it, and preview it as a chosen contact."""

import pytest

from crm.tests.factories import ContactFactory
from publishing.email.models import EmailTemplate

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "a-long-password-1"


def test_create_fix_a_broken_tag_and_preview_as_a_contact(live_server, page, make_user):
    make_user("mia", role="Marketer", password=PASSWORD)
    ContactFactory(email="first@client.example", first_name="Ana")
    ContactFactory(email="ines@client.example", first_name="Ines")

    page.goto(f"{live_server.url}/accounts/login/?next=/email/templates/")
    page.fill("#id_username", "mia")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.click("text=New template")
    page.fill("#id_name", "Welcome")
    page.fill("#id_subject", "Welcome, {{ contact.first_name }}")
    page.fill("#id_html_body", '<p>{% if contact.city %}From {{ contact.city }}{% endiff %}</p>'
                               '<p><a href="{{ unsubscribe_url }}">Unsubscribe</a></p>')
    page.click("#template-form button[type=submit]")
    assert "Invalid block tag" in page.inner_text("#template-form .errorlist")
    assert not EmailTemplate.objects.exists()

    page.fill("#id_html_body", '<p>Hello {{ contact.first_name }}</p>'
                               '<p><a href="{{ unsubscribe_url }}">Unsubscribe</a></p>')
    page.click("#template-form button[type=submit]")
    page.wait_for_selector("text=Template “Welcome” created.")

    page.click("text=Preview")
    assert page.inner_text("[data-field=subject]") == "Welcome, Ana"
    page.fill("#id_contact", "ines@client.example")
    page.click("#preview-form button[type=submit]")
    page.wait_for_selector("h1 >> text=Preview as ines@client.example")
    assert page.inner_text("[data-field=subject]") == "Welcome, Ines"
    assert "Hello Ines" in page.frame_locator("iframe[title='HTML version']").locator("body").inner_text()
