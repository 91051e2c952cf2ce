"""The best time to post in a real browser at a phone's width: the heat map reads as a table and passes
axe, and the campaign builder's "Best time" fills a post's time through htmx."""

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.utils import timezone

from publishing.tests.factories import ChannelFactory, ContentFactory, approve
from publishing.tests.test_best_times import _history
from tests.browser import PASSWORD, axe_violations, horizontal_overflow, log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_heat_map_and_best_time_in_the_builder_at_a_phone_width(live_server, phone, make_user):
    cache.clear()
    make_user("mia", role="Marketer", password=PASSWORD)
    slack = ChannelFactory(name="Team Slack", kind="slack")
    _history(slack, peak=(1, 10))
    content = approve(ContentFactory(title="Launch post"))

    log_in(phone, live_server.url, "mia", f"/analytics/best-times/?channel={slack.pk}")
    assert "from 15 published posts" in phone.inner_text("#best-times-summary")
    assert phone.locator("#heatmap tbody tr").count() == 7
    assert "heat-4" in phone.get_attribute("#heatmap tbody tr:nth-child(2) td:nth-of-type(11)", "class")
    assert horizontal_overflow(phone) <= 0
    assert axe_violations(phone) == []
    with phone.expect_download() as download:
        phone.get_by_role("link", name="Download CSV").click()
    assert download.value.suggested_filename == "best-times.csv"
    assert len(open(download.value.path(), encoding="utf-8").read().splitlines()) == 1 + 7 * 24

    phone.goto(f"{live_server.url}/publishing/campaigns/new/")
    row = phone.locator(f"tr[data-content='{content.pk}']")
    row.locator("input[name=contents]").check()
    row.locator("text=Team Slack — you post it by hand").check()
    today = timezone.localtime()
    tuesday = today + timedelta(days=(1 - today.weekday()) % 7 or 7)
    row.locator("input[type=datetime-local]").fill(tuesday.strftime("%Y-%m-%dT08:00"))
    row.get_by_role("button", name="Best time for “Launch post”").click()
    row.get_by_role("status").wait_for()
    assert row.locator("input[type=datetime-local]").input_value() == tuesday.strftime("%Y-%m-%dT10:00")
    assert "Tuesday 10:00 (low confidence, 3 posts seen at that hour)" in row.get_by_role("status").inner_text()
    heat_map = row.get_by_role("link", name="See the heat map (opens in a new tab)")
    assert heat_map.get_attribute("href") == f"/analytics/best-times/?channel={slack.pk}"
    row.get_by_text("The hours behind it").click()
    assert row.locator(f"#heatmap-{content.pk} tbody tr").count() == 7
    assert horizontal_overflow(phone) <= 0
    assert axe_violations(phone) == []
