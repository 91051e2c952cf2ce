"""The back-office shell in Chromium: the skip link and focus ring for keyboards, the folding menu on
a phone, and the approver deciding from the inbox."""

import pytest

from media.choices import AssetStatusChoices
from media.services.approval import asset_submit
from media.tests.factories import AssetFactory
from publishing.choices import ContentStatus
from publishing.services.content import content_submit
from publishing.tests.factories import ContentFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "a-long-password-1"


def log_in(page, live_server, username, next_url="/"):
    page.goto(f"{live_server.url}/accounts/login/?next={next_url}")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}{next_url}")


def test_keyboard_reaches_the_content_first_with_a_visible_focus(live_server, page, make_user):
    make_user("mia", role="Marketer", password=PASSWORD)
    log_in(page, live_server, "mia", "/contacts/")
    page.keyboard.press("Tab")
    skip = page.locator(".skip-link")
    assert skip.evaluate("el => el === document.activeElement")
    assert skip.evaluate("el => el.getBoundingClientRect().left >= 0")  # shown once focused
    assert skip.evaluate("el => getComputedStyle(el).outlineStyle") != "none"
    page.keyboard.press("Enter")
    page.wait_for_function("document.activeElement && document.activeElement.id === 'main'")


def test_on_a_phone_the_sections_fold_behind_the_menu_button(live_server, browser, make_user):
    make_user("mia", role="Marketer", password=PASSWORD)
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    log_in(page, live_server, "mia", "/contacts/")
    menu = page.locator(".nav-toggle")
    assert menu.is_visible() and menu.get_attribute("aria-expanded") == "false"
    assert page.locator("#sidebar").is_hidden()
    menu.focus()
    page.keyboard.press("Enter")
    assert menu.get_attribute("aria-expanded") == "true"
    page.locator("#sidebar >> text=Segments").click()
    page.wait_for_url("**/contacts/segments/")
    assert page.evaluate("document.scrollingElement.scrollWidth <= innerWidth")
    context.close()


def test_on_a_laptop_the_sections_stay_open_without_a_menu_button(live_server, page, make_user):
    make_user("mia", role="Marketer", password=PASSWORD)
    page.set_viewport_size({"width": 1280, "height": 900})
    log_in(page, live_server, "mia", "/contacts/")
    assert page.locator("#sidebar").is_visible() and page.locator(".nav-toggle").is_hidden()


def test_approver_decides_in_the_inbox_and_the_badge_counts_down(live_server, page, make_user, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    author = make_user("mia", role="Marketer", password=PASSWORD)
    make_user("ravi", role="Approver", password=PASSWORD)
    post = ContentFactory(title="Spring launch", author=author)
    content_submit(content=post, by=author)
    photo = AssetFactory(name="Team photo")
    asset_submit(asset=photo, by=author)

    log_in(page, live_server, "ravi", "/")
    assert page.inner_text("#sidebar a[href='/publishing/approvals/'] .count-badge").startswith("2")
    page.click("#needs-you >> text=2 items waiting for your approval")
    page.wait_for_url("**/publishing/approvals/")
    page.click(f"#content-{post.pk} .inbox-preview summary")
    assert "faster imports" in page.inner_text(f"#content-{post.pk} .inbox-preview")
    page.click(f"#content-{post.pk} button[value=approve]")
    page.wait_for_selector(".messages >> text=“Spring launch” approved.")
    assert page.inner_text("#sidebar a[href='/publishing/approvals/'] .count-badge").startswith("1")

    page.fill(f"#note-asset-{photo.pk}", "Crop out the logo.")
    page.click(f"#asset-{photo.pk} button[value=request_changes]")
    page.wait_for_selector("text=Nothing is waiting for your approval.")
    assert page.locator("#sidebar .count-badge").count() == 0
    post.refresh_from_db()
    photo.refresh_from_db()
    assert post.status == ContentStatus.APPROVED and photo.status == AssetStatusChoices.REJECTED
