"""In Chromium at a phone's width (390 x 844): contacts put on a new static list from the contact
list's bulk action, the list's pages, and the content editor's asset picker searched, paged and
ticked by keyboard alone; no page wider than the screen and no axe-core violation."""

from pathlib import Path

import pytest
from django.conf import settings

from crm.models import ContactList
from crm.tests.factories import ContactFactory
from media.tests.factories import AssetFactory
from publishing.media_picker import PICKER_PAGE_SIZE
from publishing.models import Content

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
AXE = Path(settings.BASE_DIR) / "static" / "vendor" / "axe.min.js"
PASSWORD = "a-long-password-1"
PHONE = {"width": 390, "height": 844}


def _checked(page, what: str) -> list[str]:
    problems = []
    overflow = page.evaluate("document.scrollingElement.scrollWidth - window.innerWidth")
    if overflow > 0:
        problems.append(f"{what}: {overflow} px wider than the screen")
    page.add_script_tag(path=str(AXE))
    problems += [f"{what}: {v}" for v in page.evaluate("""async () => {
        const result = await axe.run(document, {resultTypes: ["violations"]});
        return result.violations.map(v => `${v.id}: ${v.help} (${v.nodes[0].target.join(" ")})`);
    }""")]
    return problems


@pytest.fixture
def phone(browser, live_server, make_user):
    make_user("mia", role="Marketer", password=PASSWORD)
    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    page.set_default_timeout(15000)
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", "mia")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")
    yield page
    context.close()


def test_contacts_go_on_a_new_list_made_in_place_and_its_pages_fit_the_phone(phone, live_server):
    for n in range(3):
        ContactFactory(email=f"guest{n}@acme.io")
    page = phone
    page.goto(f"{live_server.url}/contacts/?search=guest")
    page.check('input[aria-label="Select guest0@acme.io"]')
    page.check('input[aria-label="Select guest2@acme.io"]')
    page.select_option("#bulk-action", "add_to_list")
    page.fill('input[name="list_name"]', "Webinar guests")
    page.click("#bulk-apply")
    page.wait_for_selector("text=List “Webinar guests” created; 2 added")
    guests = ContactList.objects.get()
    assert sorted(guests.members.values_list("email", flat=True)) == ["guest0@acme.io", "guest2@acme.io"]
    problems = []
    page.goto(f"{live_server.url}/contacts/lists/")
    assert "Webinar guests" in page.inner_text("#lists") and "2" in page.inner_text("#lists")
    problems += _checked(page, "lists")
    page.click("text=Webinar guests")
    page.wait_for_selector("#members")
    problems += _checked(page, "a list")
    page.click("#list-delete")
    page.wait_for_selector("#list-delete-confirm")
    problems += _checked(page, "delete a list")
    assert not problems, "\n".join(problems)


def test_the_asset_picker_is_searched_paged_and_ticked_by_keyboard(phone, live_server):
    for n in range(PICKER_PAGE_SIZE + 3):
        AssetFactory(status="approved", name=f"Product {n:02}")
    AssetFactory(status="approved", name="Roof party")
    page = phone
    page.goto(f"{live_server.url}/publishing/content/new/")
    page.fill("#id_title", "Launch")
    problems = _checked(page, "editor")
    page.focus("#media-q")
    page.keyboard.type("product")
    # The unfiltered picker already has two pages: wait for the search's own answer (15 of the 16
    # assets) and for no request left in flight, or a late one would bring page 1 back over page 2.
    page.wait_for_selector("#media-picker-body >> text=15 assets")
    page.wait_for_load_state("networkidle")
    assert "Roof party" not in page.inner_text("#media-picker-body")
    page.focus("#media-next")
    page.keyboard.press("Enter")
    page.wait_for_selector("text=Page 2 of 2")
    page.focus('#media-results input[type="checkbox"]')
    page.keyboard.press("Space")  # ticks Product 12, the first of page 2
    page.fill("#media-q", "roof")
    page.keyboard.press("Enter")
    page.wait_for_selector("#media-results >> text=Roof party")
    # The pick from page 2 stays, shown among the picked, through the new search.
    assert "Product 12" in page.inner_text("#media-attached")
    page.check("#media-results input[type=checkbox]")
    problems += _checked(page, "editor with picks")
    page.click("button[type=submit]:has-text('Save')")
    page.wait_for_url("**/publishing/content/*/")
    content = Content.objects.get()
    assert sorted(content.media.values_list("name", flat=True)) == ["Product 12", "Roof party"]
    assert not problems, "\n".join(problems)
