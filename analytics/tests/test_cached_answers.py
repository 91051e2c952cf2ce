"""The dashboard's answers kept whole until what they show can change: a second request renders nothing
again, and a fold, a rebuild, a scoring run or an edit of the campaign shows on the very next request.
The fold checkpoint is read from the cache, as with the Redis every process shares (ANALYTICS_FOLD_STATE_CACHED),
except where a test says otherwise."""

import datetime as dt

import pytest
from django.core.cache import cache
from django.core.cache.backends.locmem import LocMemCache
from django.utils import timezone
from knox.models import AuthToken
from rest_framework.test import APIClient

from analytics import reports
from analytics.api import views
from analytics.services import contacts_score, rollup_fold, rollup_rebuild, rollups
from analytics.services.rollups import FOLD_STATE_KEY
from crm.models import EngagementEvent
from crm.tests.factories import ContactFactory, EngagementEventFactory
from publishing.email.services.ab_tests import ab_test_create
from publishing.tests.email.factories import EmailCampaignFactory
from publishing.tests.factories import CampaignFactory

pytestmark = pytest.mark.django_db

OVERVIEW, CHANNELS, TRENDS = ("/api/analytics/overview/", "/api/analytics/channels/?metric=clicks",
                              "/api/analytics/trends/?metric=clicks&interval=week")


@pytest.fixture
def campaign(settings):
    settings.ANALYTICS_FOLD_STATE_CACHED = True
    cache.clear()
    campaign = CampaignFactory(name="Spring")
    contact = ContactFactory()
    for kind, channel in (("sent", "email"), ("clicked", "email"), ("clicked", "x")):
        EngagementEventFactory(contact=contact, kind=kind, campaign_id=campaign.pk, channel=channel,
                               occurred_at=dt.datetime.now(dt.UTC))
    rollup_fold()
    return campaign


@pytest.fixture
def built(monkeypatch):
    """How many times each report was built (not answered from the cache)."""
    calls = {"overview": 0, "campaign": 0, "channels": 0, "trends": 0}

    def counted(name, report):
        def build(*args, **kwargs):
            calls[name] += 1
            return report(*args, **kwargs)
        return build

    monkeypatch.setattr(reports, "overview", counted("overview", reports.overview))
    monkeypatch.setattr(reports, "campaign_report", counted("campaign", reports.campaign_report))
    monkeypatch.setattr(reports, "channel_ranking", counted("channels", reports.channel_ranking))
    monkeypatch.setattr(views, "trend_with_releases", counted("trends", views.trend_with_releases))
    return calls


def clicks_of(answer: dict, url: str):
    if url == OVERVIEW:
        return {k["metric"]: k["value"] for k in answer["kpis"]}["clicks"]
    if url == CHANNELS:
        return sum(row["clicks"] for row in answer["ranked"] + answer["below_minimum_sample"])
    if url == TRENDS:
        return answer["total"]
    return answer["totals"]["clicks"]


def urls(campaign) -> list[tuple[str, str]]:
    return [("overview", OVERVIEW), ("channels", CHANNELS), ("trends", TRENDS),
            ("campaign", f"/api/analytics/campaigns/{campaign.pk}/")]


def test_a_second_request_is_answered_with_the_same_bytes_without_building_the_report(api_as, campaign, built):
    api = api_as("Analyst")
    for name, url in urls(campaign):
        first = api.get(url)
        again = api.get(url)
        assert (first.status_code, again.status_code) == (200, 200)
        assert again.content == first.content and again["Content-Type"] == first["Content-Type"]
        assert built[name] == 1, name


# Besides the token: the tier counts and lag; nothing; the releases on the trend; the campaign's row.
LIVE_QUERIES = {"overview": 1, "channels": 0, "trends": 1, "campaign": 1}


def test_a_cached_answer_reads_the_token_and_the_live_state_only(make_user, campaign, django_assert_num_queries):
    """The fold checkpoint comes from the cache with the answer, in one round trip."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {AuthToken.objects.create(user=make_user(role='Analyst'))[1]}")
    for name, url in urls(campaign):
        assert client.get(url).status_code == 200
        with django_assert_num_queries(1 + LIVE_QUERIES[name]) as captured:
            assert client.get(url).status_code == 200
        read = [q["sql"] for q in captured.captured_queries]
        assert [q for q in read if "channelday" in q or "metrichour" in q] == [], name


def test_a_checkpoint_the_cache_lost_is_read_again_and_kept(api_as, campaign, built, django_assert_num_queries):
    api = api_as("Analyst")
    answer = api.get(CHANNELS).content
    cache.delete(FOLD_STATE_KEY)
    with django_assert_num_queries(1):
        assert api.get(CHANNELS).content == answer
    with django_assert_num_queries(0):
        assert api.get(CHANNELS).content == answer
    assert built["channels"] == 1


def test_with_a_cache_of_each_process_own_the_checkpoint_is_read_from_the_database(
        api_as, campaign, settings, monkeypatch, django_assert_num_queries):
    """A fold runs in a worker: its checkpoint in the worker's own cache would never reach the web processes."""
    settings.ANALYTICS_FOLD_STATE_CACHED = None  # as the settings leave it: the test cache is LocMemCache
    api = api_as("Analyst")
    assert clicks_of(api.get(CHANNELS).json(), CHANNELS) == 2
    with django_assert_num_queries(1):
        assert clicks_of(api.get(CHANNELS).json(), CHANNELS) == 2
    EngagementEventFactory(contact=ContactFactory(), kind="clicked", campaign_id=campaign.pk, channel="x",
                           occurred_at=dt.datetime.now(dt.UTC))
    monkeypatch.setattr(rollups, "cache", LocMemCache("worker", {}))
    rollup_fold()
    assert clicks_of(api.get(CHANNELS).json(), CHANNELS) == 3


def test_an_answer_computed_while_a_fold_commits_is_not_kept_as_that_folds(api_as, campaign, monkeypatch):
    """A fold puts its checkpoint in the cache before it commits: an answer computed meanwhile sums the roll-ups
    as they were, and is kept under the checkpoint before."""
    api = api_as("Analyst")
    assert clicks_of(api.get(CHANNELS).json(), CHANNELS) == 2
    EngagementEventFactory(contact=ContactFactory(), kind="clicked", campaign_id=campaign.pk, channel="x",
                           occurred_at=dt.datetime.now(dt.UTC))
    folded_at = timezone.now()
    monkeypatch.setattr(rollups.timezone, "now", lambda: folded_at)
    cache.set(FOLD_STATE_KEY, (EngagementEvent.objects.order_by("-id").values_list("id", flat=True)[0], folded_at))
    assert clicks_of(api.get(CHANNELS).json(), CHANNELS) == 2  # the fold has not committed

    rollup_fold()  # the very checkpoint the cache held
    assert clicks_of(api.get(CHANNELS).json(), CHANNELS) == 3


def test_a_fold_shows_on_the_next_request_of_every_report(api_as, campaign):
    api = api_as("Analyst")
    before = {url: clicks_of(api.get(url).json(), url) for _, url in urls(campaign)}
    EngagementEventFactory(contact=ContactFactory(), kind="clicked", campaign_id=campaign.pk, channel="x",
                           occurred_at=dt.datetime.now(dt.UTC))
    assert {url: clicks_of(api.get(url).json(), url) for _, url in urls(campaign)} == before
    rollup_fold()
    assert {url: clicks_of(api.get(url).json(), url) for _, url in urls(campaign)} == {
        url: clicks + 1 for url, clicks in before.items()}


def test_a_rebuild_shows_on_the_next_request(api_as, campaign):
    api = api_as("Analyst")
    assert clicks_of(api.get(CHANNELS).json(), CHANNELS) == 2
    # Gone from the events without a fold: only a rebuild from the events takes it back out.
    EngagementEvent.objects.filter(kind="clicked", channel="x").delete()
    assert clicks_of(api.get(CHANNELS).json(), CHANNELS) == 2
    rollup_rebuild()
    assert clicks_of(api.get(CHANNELS).json(), CHANNELS) == 1


def test_a_scoring_run_shows_on_the_next_overview(api_as, campaign):
    api = api_as("Analyst")
    assert sum(api.get(OVERVIEW).json()["score_tiers"].values()) == 0
    contacts_score()
    assert sum(api.get(OVERVIEW).json()["score_tiers"].values()) == 1


def test_new_events_show_in_the_overview_lag_before_they_are_folded(api_as, campaign):
    api = api_as("Analyst")
    assert api.get(OVERVIEW).json()["rollup_lag"]["pending_events"] == 0
    EngagementEventFactory(contact=ContactFactory(), kind="opened", occurred_at=dt.datetime.now(dt.UTC))
    assert api.get(OVERVIEW).json()["rollup_lag"]["pending_events"] == 1


def test_a_renamed_campaign_shows_its_new_name_on_the_next_request(api_as, campaign):
    api = api_as("Analyst")
    url = f"/api/analytics/campaigns/{campaign.pk}/"
    assert api.get(url).json()["campaign"]["name"] == "Spring"
    campaign.name = "Spring sale"
    campaign.save()
    assert api.get(url).json()["campaign"]["name"] == "Spring sale"


def test_a_campaign_with_an_ab_test_is_built_every_time(api_as, campaign, built):
    email = EmailCampaignFactory()
    ab_test_create(email_campaign=email, variants=[{"label": "A", "subject": "One"}, {"label": "B", "subject": "Two"}])
    api = api_as("Analyst")
    url = f"/api/analytics/campaigns/{email.campaign_id}/"
    assert api.get(url).json()["ab_test"] is not None
    api.get(url)
    assert built["campaign"] == 2


def test_a_trend_marked_with_unusual_days_is_built_every_time(api_as, campaign, built):
    api = api_as("Analyst")
    for _ in range(2):
        assert api.get("/api/analytics/trends/?metric=clicks&interval=day").status_code == 200
    assert built["trends"] == 2


def test_another_period_or_format_is_another_answer(api_as, campaign, built):
    api = api_as("Analyst")
    today = timezone.localdate()
    api.get(CHANNELS)
    # The default period spelled out is the same answer.
    api.get(f"{CHANNELS}&start={today - dt.timedelta(days=29)}&end={today}")
    assert built["channels"] == 1
    api.get(f"{CHANNELS}&start={today - dt.timedelta(days=6)}")
    assert built["channels"] == 2
    csv = api.get(f"{CHANNELS}&format=csv")
    again = api.get(f"{CHANNELS}&format=csv")
    assert built["channels"] == 3
    assert again.content == csv.content and again["Content-Type"].startswith("text/csv")
    assert again["Content-Disposition"] == 'attachment; filename="channels.csv"'


def test_the_browsable_page_is_never_kept(api_as, campaign, built):
    api = api_as("Analyst")
    for _ in range(2):
        assert api.get(CHANNELS, HTTP_ACCEPT="text/html").status_code == 200
    assert built["channels"] == 2


def test_nothing_is_kept_when_the_cache_is_off(api_as, campaign, built, settings):
    settings.ANALYTICS_REPORT_CACHE_SECONDS = 0
    api = api_as("Analyst")
    for _, url in urls(campaign):
        api.get(url)
        api.get(url)
    assert built == {"overview": 2, "campaign": 2, "channels": 2, "trends": 2}


def test_a_refused_request_never_reaches_the_cache(api_client, api_as, campaign):
    api_as("Analyst").get(CHANNELS)
    assert api_client.get(CHANNELS).status_code in (401, 403)
