import datetime as dt
from decimal import Decimal

import pytest

from analytics.services import contacts_score, rollup_fold
from crm.tests.factories import ContactFactory, EngagementEventFactory
from publishing.tests.factories import CampaignFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def analyst_client(client, make_user):
    client.force_login(make_user("ana", role="Analyst"))
    return client


@pytest.fixture
def campaign():
    campaign = CampaignFactory(name="Autumn launch")
    contact = ContactFactory()
    now = dt.datetime.now(dt.UTC)
    for kind in ("sent", "opened", "clicked"):
        EngagementEventFactory(contact=contact, kind=kind, campaign_id=campaign.pk, occurred_at=now)
    EngagementEventFactory(contact=contact, kind="converted", campaign_id=campaign.pk, occurred_at=now,
                           value=Decimal("75"))
    rollup_fold()
    contacts_score()
    return campaign


def test_every_dashboard_renders_with_its_table_and_csv_link(analyst_client, campaign):
    for url, marker in [
        ("/analytics/", 'id="kpis"'),
        (f"/analytics/campaigns/{campaign.pk}/", 'id="campaign-totals"'),
        ("/analytics/channels/?min_sample=0", 'id="channel-ranking"'),
        ("/analytics/trends/?metric=clicks&interval=week", 'id="trend-table"'),
        ("/analytics/cohorts/", 'id="cohort-engaged"'),
        ("/analytics/attribution/?model=position_based", 'id="attribution-table"'),
        ("/analytics/scores/?tier=low", 'id="scores"'),
    ]:
        response = analyst_client.get(url)
        html = response.content.decode()
        assert response.status_code == 200, url
        assert marker in html, url
        assert "format=csv" in html, url
    campaign_page = analyst_client.get(f"/analytics/campaigns/{campaign.pk}/").content.decode()
    assert "Autumn launch" in campaign_page and "n/a" in campaign_page


def test_bad_pickers_show_form_errors_not_a_crash(analyst_client):
    response = analyst_client.get("/analytics/trends/?metric=vibes&start=2026-05-10&end=2026-05-01")
    assert response.status_code == 200
    assert 'role="alert"' in response.content.decode()


def test_dashboards_need_login(client):
    assert client.get("/analytics/").status_code == 302
