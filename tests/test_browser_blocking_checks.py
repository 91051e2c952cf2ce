"""The Admin's page of checks before approval in a real browser at a phone's width: reached from the
navigation (which others do not see), it says what each check does, saves the choices and passes axe;
the approver's inbox then shows the blocked item with Approve disabled and the reason."""

import pytest

from publishing.choices import ContentKind
from publishing.services import content_submit
from publishing.tests.factories import ContentFactory
from tests.browser import PASSWORD, axe_violations, horizontal_overflow, log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_admin_chooses_blocking_checks_and_the_inbox_disables_approval(live_server, phone, make_user):
    make_user("root", role="Admin", password=PASSWORD)
    make_user("ada", role="Approver", password=PASSWORD)
    author = make_user("writer", role="Marketer")
    email = content_submit(content=ContentFactory(kind=ContentKind.EMAIL, title="Spring news", body="Our news.",
                                                  author=author), by=author)

    log_in(phone, live_server.url, "root", "/")
    # At a phone's width the navigation folds away: follow the link it holds.
    phone.goto(live_server.url + phone.locator("nav a", has_text="Checks before approval").get_attribute("href"))
    assert phone.url.endswith("/publishing/checks/blocking/")
    descriptions = phone.inner_text("#check-descriptions")
    assert "Flesch-Kincaid grade against the target" in descriptions and "unsubscribe link" in descriptions
    assert horizontal_overflow(phone) <= 0
    assert axe_violations(phone) == []
    phone.get_by_label("Unsubscribe link").check()
    phone.get_by_role("button", name="Save", exact=True).click()
    assert "Blocking approval when they fail: Unsubscribe link." in phone.inner_text("main")
    phone.locator("#readability-targets input[name=email]").fill("7")
    phone.get_by_role("button", name="Save targets").click()
    assert "Readability targets saved." in phone.inner_text("main")
    assert horizontal_overflow(phone) <= 0
    assert axe_violations(phone) == []

    phone.context.clear_cookies()
    log_in(phone, live_server.url, "ada", "/publishing/approvals/")
    assert phone.locator("nav a", has_text="Checks before approval").count() == 0
    item = phone.locator(f"#content-{email.pk}")
    assert item.get_by_role("button", name="Approve").is_disabled()
    assert "Approval is blocked by failing checks: Unsubscribe link." in item.inner_text()
    assert horizontal_overflow(phone) <= 0
    assert axe_violations(phone) == []
