import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from analytics.services import contacts_score, rollup_fold
from crm.tests.factories import ContactFactory, EngagementEventFactory
from publishing.tests.factories import CampaignFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def data():
    campaign = CampaignFactory(name="Spring")
    contact = ContactFactory(email="ann@example.com")
    today = dt.datetime.now(dt.UTC)
    for kind in ("sent", "delivered", "opened", "clicked"):
        EngagementEventFactory(contact=contact, kind=kind, campaign_id=campaign.pk, occurred_at=today)
    EngagementEventFactory(contact=contact, kind="converted", campaign_id=campaign.pk, occurred_at=today,
                           value=Decimal("30"))
    rollup_fold()
    contacts_score()
    return campaign


def test_reports_need_authentication(api_client):
    assert api_client.get("/api/analytics/overview/").status_code == 401


def test_analyst_reads_every_report(api_as, data):
    client = api_as("Analyst")
    today = dt.date.today()
    for url in [
        "/api/analytics/overview/",
        f"/api/analytics/campaigns/{data.pk}/",
        f"/api/analytics/campaigns/?ids={data.pk}",
        "/api/analytics/channels/?metric=clicks&min_sample=0",
        f"/api/analytics/trends/?metric=clicks&interval=week&start={today - dt.timedelta(days=13)}&end={today}",
        "/api/analytics/cohorts/?by=source",
        "/api/analytics/attribution/?model=linear",
        "/api/analytics/scores/?tier=low&tier=medium",
    ]:
        response = client.get(url)
        assert response.status_code == 200, (url, response.content[:300])
    campaign = client.get(f"/api/analytics/campaigns/{data.pk}/").json()
    assert campaign["totals"]["clicks"] == 1 and campaign["totals"]["conversion_rate"] == 1.0
    assert campaign["totals"]["cost_per_click"] == 0.0  # no spend: clicks cost nothing
    assert campaign["totals"]["return_on_ad_spend"] is None  # no spend: no ratio


def test_every_report_downloads_as_csv_with_na_for_missing_rates(api_as, data):
    client = api_as("Analyst")
    response = client.get(f"/api/analytics/campaigns/{data.pk}/?format=csv")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert rows[0]["channel"] == "(all channels)" and rows[0]["clicks"] == "1"
    assert rows[0]["return_on_ad_spend"] == "n/a"
    for url in ("/api/analytics/overview/", "/api/analytics/channels/?min_sample=0", "/api/analytics/cohorts/",
                "/api/analytics/attribution/", "/api/analytics/scores/", "/api/analytics/trends/?metric=opens"):
        assert client.get(url, {"format": "csv"} if "?" not in url else None).status_code == 200, url


def test_bad_queries_get_field_errors(api_as):
    client = api_as("Analyst")
    response = client.get("/api/analytics/trends/?metric=vibes&interval=month")
    assert response.status_code == 400
    assert set(response.json()["fields"]) == {"metric", "interval"}
    response = client.get("/api/analytics/overview/?start=2026-05-10&end=2026-05-01")
    assert response.status_code == 400 and "end" in response.json()["fields"]
    assert client.get("/api/analytics/campaigns/?ids=1,x").status_code == 400
    assert client.get("/api/analytics/campaigns/999999/").status_code == 404


def test_score_list_has_a_fixed_number_of_queries(api_as, data, django_assert_num_queries):
    for _ in range(20):
        EngagementEventFactory(kind="clicked")
    contacts_score()
    client = api_as("Marketer")
    client.get("/api/analytics/scores/")  # warm the permission cache
    with django_assert_num_queries(3):  # the tier counts, the page of scores, its contacts
        response = client.get("/api/analytics/scores/?page_size=50")
    body = response.json()
    assert body["count"] == 21
    assert body["results"][0]["score"] >= body["results"][-1]["score"]


def test_recompute_one_contact(api_as, data):
    contact = ContactFactory()
    EngagementEventFactory(contact=contact, kind="replied")
    response = api_as("Marketer").post(f"/api/analytics/scores/{contact.pk}/recompute/")
    assert response.status_code == 200
    assert response.json()["score"] > 0


def test_score_list_is_counted_from_the_tier_counts_unless_narrowed_further(api_as, data):
    for _ in range(3):
        EngagementEventFactory(kind="converted")
    contacts_score()
    client = api_as("Analyst")
    client.get("/api/analytics/scores/")  # warm the permission cache
    for url, count in (("/api/analytics/scores/", 4), ("/api/analytics/scores/?tier=low", 3),
                       ("/api/analytics/scores/?tier=low&tier=medium", 4)):
        with CaptureQueriesContext(connection) as queries:
            body = client.get(url).json()
        assert body["count"] == count and len(body["results"]) == count
        assert not [q for q in queries.captured_queries if "COUNT(" in q["sql"].upper()
                    and '"analytics_contactscore"' in q["sql"]]
    assert client.get("/api/analytics/scores/?min_score=40").json()["count"] == 1


def test_report_csv_quotes_a_name_that_starts_like_a_formula(api_as, data):
    data.name = '=HYPERLINK("http://evil.example/","click")'
    data.save(update_fields=["name"])
    response = api_as("Analyst").get(f"/api/analytics/campaigns/?ids={data.pk}&format=csv")
    assert response.status_code == 200
    [row] = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert row["campaign"] == "'" + data.name
