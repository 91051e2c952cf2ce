"""The value tier on the contact list and page, on a phone: filterable, fits 390 px, axe clean."""

from decimal import Decimal

import pytest

from crm.tests.factories import ContactFactory
from tests.browser import AXE, PASSWORD, axe_violations, horizontal_overflow, log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_marketer_filters_by_value_tier_on_a_phone(live_server, browser, make_user):
    assert AXE.exists(), "axe-core is missing: run `make install` (copies it into static/vendor)."
    make_user("mia", role="Marketer", password=PASSWORD)
    ContactFactory(email="vip@shop.example", value_tier="platinum", lifetime_value=Decimal("12500.00"),
                   stripe_customer_id="cus_V")
    ContactFactory(email="free@shop.example")
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    log_in(page, live_server.url, "mia", "/contacts/")
    page.wait_for_selector("#contacts")
    page.select_option("select[name=value_tier]", "platinum")
    page.click("#filters button[type=submit]")
    page.wait_for_url("**value_tier=platinum**")
    rows = page.locator("#contacts tbody tr")
    assert rows.count() == 1 and "Platinum" in rows.inner_text() and "12500.00" in rows.inner_text()
    problems = [f"list: {v}" for v in axe_violations(page)]
    assert horizontal_overflow(page) <= 0

    page.click("text=vip@shop.example")
    page.wait_for_selector("#value")
    assert "Platinum" in page.locator("#value").inner_text() and "cus_V" in page.locator("#value").inner_text()
    problems += [f"contact: {v}" for v in axe_violations(page)]
    assert horizontal_overflow(page) <= 0
    context.close()
    assert not problems, "\n".join(problems)
