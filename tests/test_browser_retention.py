"""The data-retention page in a real browser: an Admin turns a policy on, at a laptop's and a phone's
width, axe-clean."""

import pytest

from aicmo_site.models import RetentionKind
from aicmo_site.retention import retention_policies
from tests.browser import PASSWORD, axe_violations, horizontal_overflow, log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("width", [1280, 390])
def test_an_admin_turns_the_inactive_contacts_policy_on(live_server, browser, make_user, width):
    make_user("ada", role="Admin", password=PASSWORD)
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15000)

    log_in(page, live_server.url, "ada", "/retention/")
    assert horizontal_overflow(page) <= 0 and axe_violations(page) == []
    page.get_by_role("group", name="Inactive contacts").get_by_label("On").check()
    page.fill("input[name=inactive_contacts-keep_for]", "2")
    page.select_option("select[name=inactive_contacts-action]", "erase")
    page.click("form[aria-label='Retention policies'] button[type=submit]")

    page.wait_for_selector("text=Retention policies saved")
    assert horizontal_overflow(page) <= 0 and axe_violations(page) == []
    inactive = {p.kind: p for p in retention_policies()}[RetentionKind.INACTIVE_CONTACTS]
    assert (inactive.enabled, inactive.keep_for, inactive.action) == (True, 2, "erase")
    assert not {p.kind: p for p in retention_policies()}[RetentionKind.AUDIT_ENTRIES].enabled
    context.close()
