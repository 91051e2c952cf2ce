import pytest

from crm.models import Segment
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
    page.click("#rules-json summary")  # the builder shows the rules; the JSON box is folded away under it
    page.fill("textarea[name=rules]",
              '{"op": "and", "rules": [{"field": "tags", "operator": "any", "value": ["vip"]}]}')
    page.wait_for_function("document.getElementById('live-count').textContent === '2'")
    assert page.locator("#rule-builder .rule select[aria-label=Field]").input_value() == "tags"  # read back
    # A bare rule without a group is valid but not something the builder edits: the JSON box alone shows it.
    page.fill("textarea[name=rules]", '{"field": "tags", "operator": "none", "value": ["vip"]}')
    assert page.locator("#rule-builder").is_hidden()
    page.wait_for_function("document.getElementById('live-count').textContent === '1'")
    page.fill("textarea[name=rules]", '{"op": "and", "rules": [{"field": "shoe_size"}]}')
    page.wait_for_selector("#rule-errors li")
    assert "Rule 1, field: unknown field" in page.locator("#rule-errors").inner_text()
    assert "rules[" not in page.locator("#rule-errors").inner_text()


def test_segment_builder_makes_rules_by_clicking_with_a_nested_or_group_and_counts_live(live_server, page, make_user):
    make_user("mia", role="Marketer", password="a-long-password-1")
    vip = TagFactory(name="vip")
    ContactFactory(tags=[vip], engagement_score=80, lifecycle_status="new")
    ContactFactory(tags=[vip], engagement_score=10, lifecycle_status="engaged")
    ContactFactory(tags=[vip], engagement_score=10, lifecycle_status="new")
    ContactFactory(engagement_score=90)

    log_in(page, live_server, "/contacts/segments/new/")
    page.wait_for_function("document.getElementById('live-count').textContent === '4'")
    assert page.locator("textarea[name=rules]").is_hidden()  # folded away: the builder is the editor

    page.click("#rule-builder >> text=Add rule")
    rule = page.locator("#rule-builder .rule").first
    assert rule.locator("select[aria-label=Field]").input_value() == "tags"
    rule.locator("input[aria-label=Values]").fill("vip")
    page.wait_for_function("document.getElementById('live-count').textContent === '3'")

    # A nested "any of" group: a high score, or engaged.
    page.click("#rule-builder >> text=Add group")
    group = page.locator("#rule-builder .rule-items .rule-group")
    assert group.locator("select[aria-label=Match]").input_value() == "or"
    inner = group.locator(".rule").first
    inner.locator("select[aria-label=Field]").select_option("engagement_score")
    inner.locator("select[aria-label=Operator]").select_option("gte")
    inner.locator("input[aria-label=Number]").fill("70")
    group.locator("text=Add rule").click()
    second = group.locator(".rule").nth(1)
    second.locator("select[aria-label=Field]").select_option("lifecycle_status")
    second.locator("label", has_text="Engaged").locator("input").check()
    page.wait_for_function("document.getElementById('live-count').textContent === '2'")

    page.fill("#id_name", "Warm VIPs")
    page.click("#segment-form button[type=submit]")
    page.wait_for_selector("text=saved")
    assert Segment.objects.get(name="Warm VIPs").rules == {"op": "and", "rules": [
        {"field": "tags", "operator": "any", "value": ["vip"]},
        {"op": "or", "rules": [
            {"field": "engagement_score", "operator": "gte", "value": 70},
            {"field": "lifecycle_status", "operator": "in", "value": ["engaged"]},
        ]},
    ]}
    # The saved segment opens in the builder again, and removing the group widens it back.
    page.wait_for_function("document.getElementById('live-count').textContent === '2'")
    page.click("#rule-builder >> text=Remove group")
    page.wait_for_function("document.getElementById('live-count').textContent === '3'")
