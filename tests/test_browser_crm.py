import pytest

from crm.tests.factories import CompanyFactory, ContactFactory, EngagementEventFactory, TagFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def log_in(page, live_server, next_url):
    page.goto(f"{live_server.url}/accounts/login/?next={next_url}")
    page.fill("#id_username", "mia")
    page.fill("#id_password", "a-long-password-1")
    page.click("button[type=submit]")


def test_marketer_filters_the_contact_list_and_opens_a_contact(live_server, page, make_user):
    make_user("mia", role="Marketer", password="a-long-password-1")
    vip = TagFactory(name="vip")
    ann = ContactFactory(email="ann@acme.io", first_name="Ann", tags=[vip], company=CompanyFactory(name="Acme"),
                         lifecycle_status="engaged")
    ContactFactory(email="bob@acme.io", lifecycle_status="new")
    EngagementEventFactory(contact=ann, kind="clicked", channel="email")

    log_in(page, live_server, "/contacts/")
    page.wait_for_selector("#contacts")
    assert page.locator("#contacts tbody tr").count() == 2

    page.select_option("select[name=lifecycle_status]", "engaged")
    page.click("#filters button[type=submit]")
    page.wait_for_url("**lifecycle_status=engaged**")
    rows = page.locator("#contacts tbody tr")
    assert rows.count() == 1 and "ann@acme.io" in rows.inner_text()

    page.click("text=ann@acme.io")
    page.wait_for_selector("#timeline")
    assert "Clicked" in page.locator("#timeline").inner_text()
    assert page.locator("#lifecycle").inner_text() == "Engaged"


def test_segment_editor_counts_live_while_typing(live_server, page, make_user):
    make_user("mia", role="Marketer", password="a-long-password-1")
    vip = TagFactory(name="vip")
    ContactFactory.create_batch(2, tags=[vip])
    ContactFactory()

    log_in(page, live_server, "/contacts/segments/new/")
    # The editor counts the empty rules (everyone) as soon as its script runs.
    page.wait_for_function("document.getElementById('live-count').textContent === '3'")
    page.fill("textarea[name=rules]",
              '{"op": "and", "rules": [{"field": "tags", "operator": "any", "value": ["vip"]}]}')
    page.wait_for_function("document.getElementById('live-count').textContent === '2'")
    page.fill("textarea[name=rules]", '{"op": "and", "rules": [{"field": "shoe_size"}]}')
    page.wait_for_selector("#rule-errors li")
    assert "rules.rules[0].field" in page.locator("#rule-errors").inner_text()
