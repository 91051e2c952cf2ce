"""The audit log page and a contact's change history in a real browser, at a phone's width, axe-clean."""

import re

import pytest

from aicmo_site.audit import AuditSource, audit_source
from crm.services import contact_update
from crm.tests.factories import ContactFactory
from tests.browser import PASSWORD, axe_violations, horizontal_overflow, log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_admin_searches_the_log_and_reads_a_contacts_history_on_a_phone(live_server, browser, make_user):
    make_user("ada", role="Admin", password=PASSWORD)
    mia = make_user("mia", role="Marketer", password=PASSWORD)
    ann = ContactFactory(email="ann.longname-for-a-narrow-screen@example.com", city="Lyon")
    with audit_source(AuditSource.API, "token 1a2b3c4d", actor=mia):
        contact_update(contact=ann, city="Nantes", job_title="Head of a very long department name indeed")
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.set_default_timeout(15000)

    log_in(page, live_server.url, "ada", "/audit/")
    page.fill("input[name=who]", "mia")
    page.select_option("select[name=source]", "api")
    page.click("form[aria-label='Filter the audit log'] button[type=submit]")
    page.wait_for_url(re.compile(r".*/audit/\?.*source=api"))
    rows = page.locator("main table tbody tr")
    assert rows.count() == 1
    assert "API (token 1a2b3c4d)" in rows.first.inner_text()
    assert "Nantes" in rows.first.inner_text()
    assert horizontal_overflow(page) <= 0 and axe_violations(page) == []

    page.goto(f"{live_server.url}/contacts/{ann.pk}/")
    history = page.locator("#change-history")
    assert "Nantes" in history.inner_text() and "by mia" in history.inner_text()
    assert horizontal_overflow(page) <= 0 and axe_violations(page) == []
    context.close()
