import datetime as dt

import pytest

from analytics.services import rollup_fold
from crm.tests.factories import ContactFactory, EngagementEventFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_overview_draws_its_chart_from_the_project_own_chart_library(live_server, page, make_user):
    make_user("ada", role="Analyst", password="a-long-password-1")
    contact = ContactFactory()
    for days_ago in (0, 1, 1, 3):
        EngagementEventFactory(contact=contact, kind="clicked", campaign_id=1,
                               occurred_at=dt.datetime.now(dt.UTC) - dt.timedelta(days=days_ago))
    rollup_fold()
    requests_off_site = []
    page.on("request", lambda r: None if r.url.startswith(live_server.url) else requests_off_site.append(r.url))

    page.goto(f"{live_server.url}/accounts/login/?next=/analytics/")
    page.fill("#id_username", "ada")
    page.fill("#id_password", "a-long-password-1")
    page.click("button[type=submit]")
    page.wait_for_selector("canvas[data-drawn=true]")

    assert page.locator("#kpis").inner_text().count("Clicks") >= 1
    assert page.evaluate("typeof Chart") == "function"
    assert requests_off_site == []


def test_overview_leads_to_campaigns_side_by_side_with_chart_and_table(live_server, page, make_user):
    from publishing.tests.factories import CampaignFactory

    make_user("ben", role="Analyst", password="a-long-password-2")
    spring, autumn = CampaignFactory(name="Spring"), CampaignFactory(name="Autumn")
    contact = ContactFactory()
    now = dt.datetime.now(dt.UTC)
    for campaign, clicks in ((spring, 3), (autumn, 1)):
        for _ in range(clicks):
            EngagementEventFactory(contact=contact, kind="clicked", campaign_id=campaign.pk, occurred_at=now)
    rollup_fold()

    page.goto(f"{live_server.url}/accounts/login/?next=/analytics/")
    page.fill("#id_username", "ben")
    page.fill("#id_password", "a-long-password-2")
    page.click("button[type=submit]")
    page.click("#compare-top")
    page.wait_for_selector("canvas[data-chart=compare-chart][data-drawn=true]")

    header = page.locator("#campaign-comparison thead").inner_text()
    assert "Spring" in header and "Autumn" in header
    clicks_row = page.locator("#campaign-comparison tr", has_text="Clicks").first.inner_text()
    assert clicks_row.split()[-2:] == ["3", "1"]
    assert page.evaluate("document.querySelector('canvas[data-chart=compare-chart]').chart.data.datasets.length") == 2
