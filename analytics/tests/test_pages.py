import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

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


def test_campaigns_compared_side_by_side_from_the_overview_link(analyst_client, campaign):
    other = CampaignFactory(name="Winter sale")
    overview = analyst_client.get("/analytics/").content.decode()
    assert 'id="compare-top"' in overview and f"ids={campaign.pk}" in overview

    response = analyst_client.get(f"/analytics/compare/?ids={campaign.pk}&ids={other.pk}")
    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="campaign-comparison"' in html
    table = html.split('id="campaign-comparison"')[1]
    assert table.index("Autumn launch") < table.index("Winter sale")
    assert f"/api/analytics/campaigns/?ids={campaign.pk}%2C{other.pk}&amp;format=csv" in html
    # The chosen campaigns stay chosen in the picker.
    assert f'<option value="{other.pk}" selected>' in html


def test_compare_without_campaigns_asks_for_them_and_bad_ids_are_form_errors(analyst_client, campaign):
    empty = analyst_client.get("/analytics/compare/").content.decode()
    assert "Choose the campaigns to compare" in empty and 'role="alert"' not in empty
    bad = analyst_client.get("/analytics/compare/?ids=one,two").content.decode()
    assert 'role="alert"' in bad and "numbers separated by commas" in bad


def test_contact_score_trend_page_shows_history_chart_and_table(analyst_client, campaign):
    from analytics.models import ContactScore, ContactScoreHistory

    score = ContactScore.objects.select_related("contact").get(score__gt=0)
    ContactScoreHistory.objects.create(contact=score.contact, day=dt.date(2026, 1, 5), score=3, tier="inactive")
    scores_page = analyst_client.get("/analytics/scores/").content.decode()
    assert f"/analytics/contacts/{score.contact_id}/" in scores_page

    html = analyst_client.get(f"/analytics/contacts/{score.contact_id}/").content.decode()
    assert 'id="score-history"' in html and 'data-chart="contact-score-chart"' in html
    rows = html.split('id="score-history"')[1]
    assert rows.index("2026-01-05") < rows.index(timezone.localdate(score.computed_at).isoformat())
    assert f"<strong>{score.score}</strong>" in html


def test_contact_score_page_of_an_unscored_contact_says_so(analyst_client):
    contact = ContactFactory()
    html = analyst_client.get(f"/analytics/contacts/{contact.pk}/").content.decode()
    assert "Not scored yet" in html and "No score changes recorded yet" in html
    assert analyst_client.get("/analytics/contacts/999999/").status_code == 404


def test_metric_names_read_as_words_not_code(analyst_client, campaign):
    for url in ("/analytics/", f"/analytics/campaigns/{campaign.pk}/", "/analytics/channels/?min_sample=0"):
        html = analyst_client.get(url).content.decode()
        assert "Metric(" not in html, url
    assert "Click-through rate" in analyst_client.get("/analytics/").content.decode()


def test_campaign_report_says_how_fresh_its_figures_are(analyst_client, campaign):
    """The report reads the roll-ups: it says when they were last folded and what is still waiting,
    so a marketer who just sent does not read zeros as a result."""
    html = analyst_client.get(f"/analytics/campaigns/{campaign.pk}/").content.decode()
    assert "Figures as of" in html and "newer event" not in html
    EngagementEventFactory(contact=ContactFactory(), kind="clicked", campaign_id=campaign.pk,
                           occurred_at=dt.datetime.now(dt.UTC))
    html = analyst_client.get(f"/analytics/campaigns/{campaign.pk}/").content.decode()
    assert "1 newer event is counted at the next roll-up" in html
