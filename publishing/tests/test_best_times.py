"""The best time to post: an hour-of-week model per channel, learned from its published posts."""

from datetime import datetime, timedelta

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from aicmo_site.roles import MARKETER
from publishing.best_times import PRIOR_WEIGHT, best_time_in_window, channel_best_times
from publishing.choices import JobStatus
from publishing.models import Campaign, MetricSnapshot, PublishingJob
from publishing.services import metric_snapshot_record
from publishing.tests.factories import CampaignFactory, ChannelFactory, ContentFactory, JobFactory

pytestmark = pytest.mark.django_db
MONDAY = datetime(2026, 11, 2, tzinfo=timezone.get_default_timezone())


@pytest.fixture(autouse=True)
def fresh_cache():
    cache.clear()
    yield
    cache.clear()


def _post(channel, campaign, at: datetime, engagements: int):
    """A published post whose snapshots are running totals: the latest one holds its engagements."""
    job = JobFactory(channel=channel, campaign=campaign, status=JobStatus.PUBLISHED, published_at=at)
    MetricSnapshot.objects.create(job=job, taken_at=at + timedelta(hours=1), engagements=engagements // 2)
    MetricSnapshot.objects.create(job=job, taken_at=at + timedelta(days=1), engagements=engagements)
    return job


def _history(channel, peak=(1, 10), weeks=3):
    """Posts at several hours each week; the `peak` (weekday, hour) draws ten times the rest."""
    campaign = CampaignFactory()
    for week in range(weeks):
        for weekday, hour in [(0, 9), (1, 14), (2, 10), (4, 16), peak]:
            at = MONDAY + timedelta(weeks=week, days=weekday, hours=hour, minutes=7)
            _post(channel, campaign, at, 100 if (weekday, hour) == peak else 10)


def _cell(result, weekday, hour):
    return result["grid"][weekday]["hours"][hour]


def test_a_known_peak_is_recovered_as_the_best_slot():
    ours, theirs = ChannelFactory(name="Mastodon"), ChannelFactory(name="Bluesky")
    _history(ours, peak=(1, 10))
    _history(theirs, peak=(3, 18))
    result = channel_best_times(ours)
    best = max(((d["weekday"], c["hour"], c["score"]) for d in result["grid"] for c in d["hours"]), key=lambda x: x[2])
    assert best[:2] == (1, 10)
    assert result["posts_seen"] == 15 and _cell(result, 1, 10)["posts"] == 3
    tuesday = MONDAY + timedelta(weeks=5, days=1)
    slot = best_time_in_window(channels=[ours], start=tuesday, end=tuesday + timedelta(days=1))
    assert (slot["at"].weekday(), slot["at"].hour, slot["at"].minute) == (1, 10, 0)
    # The other channel's history is its own: its Thursday peak is not ours.
    assert best_time_in_window(channels=[theirs], start=tuesday, end=tuesday + timedelta(days=3))["at"].weekday() == 3


def test_posts_not_published_or_without_metrics_teach_nothing():
    channel = ChannelFactory()
    campaign = CampaignFactory()
    failed = _post(channel, campaign, MONDAY + timedelta(hours=8), 500)
    failed.status = JobStatus.FAILED
    failed.save(update_fields=["status"])
    JobFactory(channel=channel, campaign=campaign, status=JobStatus.PUBLISHED, published_at=MONDAY + timedelta(hours=9))
    result = channel_best_times(channel)
    assert result["posts_seen"] == 1 and _cell(result, 0, 9)["score"] == 0 and _cell(result, 0, 8)["posts"] == 0


def test_thin_data_leans_towards_the_channel_average_and_says_low_confidence():
    channel = ChannelFactory()
    campaign = CampaignFactory()
    for day in range(10):
        _post(channel, campaign, MONDAY + timedelta(days=day, hours=12), 10)
    _post(channel, campaign, MONDAY + timedelta(days=5, hours=3), 1000)  # one lucky Saturday night post
    result = channel_best_times(channel)
    prior = 1100 / 11
    assert result["prior"] == pytest.approx(prior, abs=0.01)
    lucky = _cell(result, 5, 3)
    assert lucky["score"] == pytest.approx((1000 + PRIOR_WEIGHT * prior) / (1 + PRIOR_WEIGHT), abs=0.01)
    assert lucky["score"] < 1000 and lucky["confidence"] < 0.5
    assert _cell(result, 6, 20)["score"] == pytest.approx(prior, abs=0.01)  # never posted: the prior itself
    assert result["confidence_label"] == "low confidence"
    saturday = MONDAY + timedelta(days=12)
    slot = best_time_in_window(channels=[channel], start=saturday, end=saturday + timedelta(days=1))
    assert slot["at"].hour == 3 and slot["confidence_label"] == "low confidence" and slot["posts"] == 1


def test_a_channel_without_history_says_so():
    result = channel_best_times(ChannelFactory())
    assert result["posts_seen"] == 0 and result["confidence"] == 0 and result["confidence_label"] == "low confidence"
    assert len(result["grid"]) == 7 and all(len(day["hours"]) == 24 for day in result["grid"])


def test_the_api_returns_the_grid_in_a_fixed_number_of_queries(api_as, django_assert_num_queries):
    channel = ChannelFactory()
    _history(channel, weeks=2)
    client = api_as(MARKETER)
    # The user's permissions (two), the channel, then one aggregate over its posts however many they are.
    with django_assert_num_queries(4):
        response = client.get(f"/api/channels/{channel.pk}/best-times/")
    assert response.status_code == 200
    data = response.json()
    assert data["posts_seen"] == 10 and data["grid"][1]["day"] == "Tuesday"
    assert data["grid"][1]["hours"][10]["posts"] == 2 and data["confidence_label"] == "low confidence"
    assert client.get("/api/channels/999999/best-times/").status_code == 404


def _ask_best_time(client, data):
    return client.post(reverse("publishing:campaign-create"), data, HTTP_HX_REQUEST="true")


def test_best_time_in_the_builder_fills_the_time_field(marketer_client):
    channel = ChannelFactory(name="Team Slack", kind="slack")
    _history(channel, peak=(1, 10))
    content = ContentFactory(title="Launch post")
    campaigns = Campaign.objects.count()
    tuesday = timezone.localtime() + timedelta(days=7 - timezone.localtime().weekday() + 1)
    response = _ask_best_time(
        marketer_client,
        {
            "contents": [content.pk],
            f"channels_{content.pk}": [channel.pk],
            f"publish_at_{content.pk}": tuesday.strftime("%Y-%m-%dT08:00"),
            "best_time": str(content.pk),
        },
    )
    assert response.status_code == 200
    text = response.content.decode()
    assert f'name="publish_at_{content.pk}" value="{tuesday:%Y-%m-%d}T10:00"' in text
    assert (
        "Best time for “Launch post” on Team Slack: Tuesday 10:00 (low confidence, 3 posts seen at that hour)" in text
    )
    # The hours behind the suggestion are beside it, and the full report one link away.
    assert f'<table class="heatmap" id="heatmap-{content.pk}">' in text
    assert 'aria-label="Heat map of Team Slack"' in text and text.count('<th scope="row">') == 7
    assert "Tuesday 10:00 — " in text and "3 posts, low confidence" in text
    assert f'<a href="/analytics/best-times/?channel={channel.pk}" target="_blank"' in text
    # Only the time cell comes back, without the errors of the fields not filled in yet (the name).
    assert "<form" not in text and "This field is required" not in text
    assert Campaign.objects.count() == campaigns  # a suggestion saves nothing


def test_best_time_without_a_channel_asks_for_one(marketer_client):
    content = ContentFactory(title="Launch post")
    response = _ask_best_time(marketer_client, {"contents": [content.pk], "best_time": str(content.pk)})
    assert "Choose where to post “Launch post” first" in response.content.decode()
    assert "See the heat map" not in response.content.decode() and "heatmap" not in response.content.decode()
    assert _ask_best_time(marketer_client, {"best_time": "nope"}).status_code == 400


def test_a_new_snapshot_clears_the_cached_map_of_its_channel_only(django_capture_on_commit_callbacks):
    ours, theirs = ChannelFactory(name="Mastodon"), ChannelFactory(name="Bluesky")
    _history(ours, peak=(1, 10), weeks=1)
    _history(theirs, peak=(1, 10), weeks=1)
    before, untouched = channel_best_times(ours), channel_best_times(theirs)
    quiet = PublishingJob.objects.filter(channel=ours, published_at__week_day=2).order_by("published_at").first()
    assert _cell(before, 0, 9)["score"] < _cell(before, 1, 10)["score"]

    with django_capture_on_commit_callbacks(execute=True):
        metric_snapshot_record(job=quiet, taken_at=quiet.published_at + timedelta(days=2), engagements=5000)

    after = channel_best_times(ours)
    assert _cell(after, 0, 9)["score"] > _cell(after, 1, 10)["score"]
    MetricSnapshot.objects.filter(job__channel=theirs).update(engagements=0)
    assert channel_best_times(theirs) == untouched  # still cached: nothing new arrived for it
