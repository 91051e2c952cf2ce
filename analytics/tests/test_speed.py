"""Dashboard reads: a fixed, small number of queries per report, and roll-up sums kept until the next
fold (a fold changes the cache key, so a report never shows figures older than the last fold)."""

import datetime as dt

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from analytics.services import rollup_fold
from crm.tests.factories import ContactFactory, EngagementEventFactory
from publishing.tests.factories import CampaignFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def campaign():
    cache.clear()
    campaign = CampaignFactory(name="Spring")
    contact = ContactFactory()
    today = dt.datetime.now(dt.UTC)
    for kind, channel in (("sent", "email"), ("clicked", "email"), ("clicked", "x")):
        EngagementEventFactory(contact=contact, kind=kind, campaign_id=campaign.pk, channel=channel,
                               occurred_at=today)
    rollup_fold()
    return campaign


def queries(client, url) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return [q["sql"] for q in captured.captured_queries]


def test_overview_sums_both_periods_by_channel_and_the_campaigns_in_two_reads_then_serves_them_from_cache(
        api_as, campaign):
    # Two reads, not one by campaign and channel: at 500 campaigns that one gave thousands of rows of fifteen
    # sums, and adding them up again in Python took longer than the database took (bench/NOTES.md). Every
    # campaign together comes from the channel roll-up (channels × days rows), only the top campaigns from the
    # campaign roll-up. Each read adds the channels' own snapshots (the content roll-up) in a UNION ALL.
    api = api_as("Analyst")
    first = [q for q in queries(api, "/api/analytics/overview/") if "analytics_contentchannelday" in q]
    assert len(first) == 2 and all("UNION ALL" in q.upper() for q in first)
    assert sorted('"analytics_channelday"' in q for q in first) == [False, True]
    assert sorted('"analytics_campaignchannelday"' in q for q in first) == [False, True]
    again = [q for q in queries(api, "/api/analytics/overview/") if "channelday" in q]
    assert again == []


@pytest.mark.parametrize("url, reads", [("/api/analytics/overview/", 2), ("/api/analytics/channels/?metric=clicks", 1),
                                        ("/api/analytics/trends/?metric=clicks&interval=week", 1)])
def test_each_report_reads_the_rollups_once_or_twice(api_as, campaign, url, reads):
    rollup_reads = [q for q in queries(api_as("Analyst"), url) if "analytics_contentchannelday" in q]
    assert len(rollup_reads) == reads


def test_campaign_report_reads_the_rollups_once(api_as, campaign):
    rollup_reads = [q for q in queries(api_as("Analyst"), f"/api/analytics/campaigns/{campaign.pk}/")
                    if "analytics_contentchannelday" in q]
    assert len(rollup_reads) == 1


def test_a_fold_makes_the_next_read_see_new_events(api_as, campaign):
    api = api_as("Analyst")
    clicks = {k["metric"]: k["value"] for k in api.get("/api/analytics/overview/").json()["kpis"]}["clicks"]
    assert clicks == 2
    EngagementEventFactory(contact=ContactFactory(), kind="clicked", campaign_id=campaign.pk,
                           occurred_at=dt.datetime.now(dt.UTC))
    unfolded = {k["metric"]: k["value"] for k in api.get("/api/analytics/overview/").json()["kpis"]}["clicks"]
    assert unfolded == 2
    rollup_fold()
    folded = {k["metric"]: k["value"] for k in api.get("/api/analytics/overview/").json()["kpis"]}["clicks"]
    assert folded == 3


def test_no_cache_when_turned_off(api_as, campaign, settings):
    settings.ANALYTICS_REPORT_CACHE_SECONDS = 0
    api = api_as("Analyst")
    first = [q for q in queries(api, "/api/analytics/overview/") if "analytics_contentchannelday" in q]
    again = [q for q in queries(api, "/api/analytics/overview/") if "analytics_contentchannelday" in q]
    assert len(again) == len(first) == 2


def test_tier_counts_are_kept_by_scoring_and_never_counted_by_the_overview(api_as, campaign):
    from analytics.services import contact_score_one, contacts_score

    contacts_score()
    api = api_as("Analyst")
    before = api.get("/api/analytics/overview/").json()["score_tiers"]
    assert [q for q in queries(api, "/api/analytics/overview/") if "analytics_contactscore\"" in q] == []
    fresh = ContactFactory()
    EngagementEventFactory(contact=fresh, kind="converted", occurred_at=dt.datetime.now(dt.UTC))
    contact_score_one(contact_id=fresh.pk)
    after = api.get("/api/analytics/overview/").json()["score_tiers"]
    assert after == {**before, "low": before["low"] + 1}
    # Scored again on demand, higher: it moves from one tier to the other, the total stays.
    for _ in range(4):
        EngagementEventFactory(contact=fresh, kind="converted", occurred_at=dt.datetime.now(dt.UTC))
    contact_score_one(contact_id=fresh.pk)
    moved = api.get("/api/analytics/overview/").json()["score_tiers"]
    assert moved == {**before, "high": before["high"] + 1}
    contacts_score()
    assert api.get("/api/analytics/overview/").json()["score_tiers"] == moved


def test_a_second_campaign_report_reads_neither_rollups_nor_events(api_as, campaign):
    api = api_as("Analyst")
    url = f"/api/analytics/campaigns/{campaign.pk}/"
    first = api.get(url).json()
    again = queries(api, url)
    assert [q for q in again if "crm_engagementevent" in q or "channelday" in q] == []
    assert api.get(url).json()["totals"] == first["totals"]


def test_a_cached_overview_reads_the_checkpoint_then_the_tier_counts_with_the_lag(api_as, campaign):
    """With a cache of each process's own, the checkpoint is read from the database (with a shared one, it comes
    from the cache: test_cached_answers)."""
    api = api_as("Analyst")
    api.get("/api/analytics/overview/")
    again = queries(api, "/api/analytics/overview/")
    assert len(again) == 2
    assert "analytics_foldcheckpoint" in again[0]
    assert "analytics_scoretiercount" in again[1] and "crm_engagementevent" in again[1]


def test_a_cached_campaign_report_reads_the_campaign_with_the_checkpoint_only(api_as, campaign):
    api = api_as("Analyst")
    url = f"/api/analytics/campaigns/{campaign.pk}/"
    api.get(url)
    (read,) = queries(api, url)  # no A/B test to read: the campaign has none
    assert "publishing_campaign" in read and "analytics_foldcheckpoint" in read
