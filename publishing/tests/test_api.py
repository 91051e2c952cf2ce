import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from aicmo_site.roles import ANALYST, APPROVER, MARKETER
from publishing.choices import CampaignStatus, ContentStatus, JobStatus
from publishing.models import Content, PublishingJob
from publishing.services import content_approve, content_create, content_submit
from publishing.tests.factories import ChannelFactory, ContentFactory, JobFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def marketer(api_as):
    return api_as(MARKETER, "writer")


@pytest.fixture
def approver(api_as):
    return api_as(APPROVER, "reviewer")


def test_marketer_writes_submits_and_approver_approves(marketer, approver):
    created = marketer.post("/api/contents/", {"title": "Spring launch", "body": "We shipped.",
                                               "tags": ["launch"]})
    assert created.status_code == 201, created.data
    pk = created.data["id"]
    submitted = marketer.post(f"/api/contents/{pk}/submit/", {"note": "ready"}).data
    assert submitted["status"] == "in_review" and "approve" not in submitted["available_actions"]
    refused = marketer.post(f"/api/contents/{pk}/approve/", {})
    assert refused.status_code == 403
    assert "approve" in approver.get(f"/api/contents/{pk}/").data["available_actions"]
    approved = approver.post(f"/api/contents/{pk}/approve/", {"note": "fine"})
    assert approved.status_code == 200 and approved.data["status"] == "approved"
    history = approver.get(f"/api/contents/{pk}/history/").data
    assert [e["action"] for e in history] == ["approved", "submitted", "created"]


def test_request_changes_without_a_note_is_a_field_error(marketer, approver):
    pk = marketer.post("/api/contents/", {"title": "T", "body": "b"}).data["id"]
    marketer.post(f"/api/contents/{pk}/submit/", {})
    response = approver.post(f"/api/contents/{pk}/request-changes/", {})
    assert response.status_code == 400
    assert "note" in response.data["fields"]


def test_approving_twice_is_a_conflict(marketer, approver):
    pk = marketer.post("/api/contents/", {"title": "T", "body": "b"}).data["id"]
    marketer.post(f"/api/contents/{pk}/submit/", {})
    approver.post(f"/api/contents/{pk}/approve/", {})
    again = approver.post(f"/api/contents/{pk}/approve/", {})
    assert again.status_code == 409 and again.data["code"] == "not_in_review"


def test_versions_are_generated_and_previewed_with_channel_errors(marketer):
    pk = marketer.post("/api/contents/", {"title": "Launch", "body": "Body " * 200, "tags": ["a", "b"]}).data["id"]
    generated = marketer.post(f"/api/contents/{pk}/versions/", {"kinds": ["x", "instagram", "devto"]})
    assert generated.status_code == 201
    assert {v["kind"] for v in marketer.get(f"/api/contents/{pk}/versions/").data} == {"x", "instagram", "devto"}
    preview = {p["kind"]: p for p in marketer.get(f"/api/contents/{pk}/preview/").data}
    assert preview["x"]["length"] <= 280 and preview["x"]["errors"] == []
    assert preview["instagram"]["errors"] == ["Instagram: a post needs at least one image or video."]
    bad = marketer.post(f"/api/contents/{pk}/versions/", {"kinds": ["myspace"]})
    assert bad.status_code == 400 and "kinds" in bad.data["fields"]


def test_content_list_query_count_does_not_grow(marketer, django_assert_num_queries):
    ContentFactory.create_batch(2)
    marketer.get("/api/contents/")  # warms the permission cache
    with django_assert_num_queries(2):
        assert marketer.get("/api/contents/").data["count"] == 2
    ContentFactory.create_batch(5)
    with django_assert_num_queries(2):
        assert marketer.get("/api/contents/").data["count"] == 7


def test_job_list_query_count_and_filters(marketer, django_assert_num_queries):
    jobs = JobFactory.create_batch(4)
    marketer.get("/api/jobs/")
    with django_assert_num_queries(2):
        assert marketer.get("/api/jobs/").data["count"] == 4
    channel = jobs[0].channel.pk
    assert [j["id"] for j in marketer.get(f"/api/jobs/?channel={channel}").data["results"]] == [jobs[0].pk]
    assert marketer.get("/api/jobs/?status=published").data["count"] == 0
    day = jobs[0].scheduled_at.date().isoformat()
    assert marketer.get(f"/api/jobs/?date_from={day}&date_to={day}").data["count"] == 4


def test_campaign_list_query_count(marketer, django_assert_num_queries):
    JobFactory.create_batch(3)
    marketer.get("/api/campaigns/")
    # count, page, channels, contents and the contents' own channels
    with django_assert_num_queries(5):
        assert marketer.get("/api/campaigns/").data["count"] == 3


def test_campaign_created_activated_paused_and_canceled_through_the_api(marketer, make_user):
    author = make_user("author", role=MARKETER)
    reviewer = make_user("boss", role=APPROVER)
    content = content_create(by=author, title="Launch", body="We shipped.", tags=["launch"])
    content_submit(content=content, by=author)
    content_approve(content=content, by=reviewer)
    channel = ChannelFactory(kind="linkedin")
    created = marketer.post("/api/campaigns/", {
        "name": "Spring", "starts_at": "2030-01-01T09:00:00Z", "contents": [{"content": content.pk}],
        "channels": [channel.pk], "audience": {"tag_ids": [1], "domains": ["acme.com"]},
    })
    assert created.status_code == 201, created.data
    assert created.data["available_actions"] == ["edit", "activate", "cancel", "email", "duplicate", "hold_for_weather"]
    pk = created.data["id"]
    activated = marketer.post(f"/api/campaigns/{pk}/activate/")
    assert activated.status_code == 200, activated.data
    assert activated.data["status"] == CampaignStatus.SCHEDULED and activated.data["job_count"] == 1
    assert activated.data["available_actions"] == ["pause", "cancel", "email", "duplicate", "hold_for_weather"]
    assert marketer.post(f"/api/campaigns/{pk}/pause/").data["status"] == "paused"
    assert PublishingJob.objects.get().status == JobStatus.PAUSED
    canceled = marketer.post(f"/api/campaigns/{pk}/cancel/").data
    assert (canceled["status"], canceled["available_actions"]) == ("canceled", ["duplicate"])
    assert PublishingJob.objects.get().status == JobStatus.CANCELED
    assert marketer.get(f"/api/campaigns/{pk}/metrics/").data == []


def test_campaign_with_unapproved_content_is_refused_with_reasons(marketer):
    content = ContentFactory()
    channel = ChannelFactory(kind="slack")
    pk = marketer.post("/api/campaigns/", {"name": "C", "starts_at": "2030-01-01T09:00:00Z",
                                           "contents": [{"content": content.pk}], "channels": [channel.pk]}).data["id"]
    refused = marketer.post(f"/api/campaigns/{pk}/activate/")
    assert refused.status_code == 400
    assert refused.data["code"] == "not_ready"
    assert "Not approved yet" in refused.data["extra"]["problems"][content.title][0]


def test_campaign_dates_in_the_wrong_order_are_a_field_error(marketer):
    response = marketer.post("/api/campaigns/", {"name": "C", "starts_at": "2030-01-02T00:00:00Z",
                                                 "ends_at": "2030-01-01T00:00:00Z"})
    assert response.status_code == 400 and "ends_at" in response.data["fields"]


def test_job_mark_published_needs_a_url_and_retry_needs_a_failed_job(marketer):
    job = JobFactory(channel=ChannelFactory(kind="linkedin"))
    assert marketer.get(f"/api/jobs/{job.pk}/").data["available_actions"] == ["cancel", "hold_for_weather"]
    assert marketer.post(f"/api/jobs/{job.pk}/retry/").status_code == 409
    assert marketer.post(f"/api/jobs/{job.pk}/mark-published/", {"url": "nope"}).status_code == 400
    response = marketer.post(f"/api/jobs/{job.pk}/cancel/")
    assert response.status_code == 200 and response.data["status"] == "canceled"
    assert response.data["available_actions"] == []


def test_metrics_entered_by_hand_and_imported_from_csv_add_up_per_channel(marketer):
    job = JobFactory()
    assert marketer.post(f"/api/jobs/{job.pk}/metrics/", {"impressions": 100, "clicks": 7}).status_code == 201
    other = JobFactory(campaign=job.campaign, channel=job.channel, version__content=ContentFactory())
    csv = (f"job_id,taken_at,impressions,clicks,engagements,conversions,spend\n"
           f"{other.pk},2030-01-01T10:00:00Z,50,3,2,1,4.50\n"
           f"999999,2030-01-01T10:00:00Z,1,1,1,1,1\n"
           f"{other.pk},yesterday,1,1,1,1,1\n")
    upload = io.BytesIO(csv.encode())
    upload.name = "metrics.csv"
    result = marketer.post("/api/jobs/import-metrics/", {"file": upload}, format="multipart").data
    assert result["imported"] == 1
    assert [e["line"] for e in result["errors"]] == [3, 4]
    (row,) = marketer.get(f"/api/campaigns/{job.campaign.pk}/metrics/").data
    assert (row["impressions"], row["clicks"], row["conversions"], Decimal(row["spend"])) == (150, 10, 1,
                                                                                              Decimal("4.5"))
    job.campaign.refresh_from_db()
    assert job.campaign.spend == Decimal("4.5")


def test_analyst_reads_but_cannot_change(api_as):
    analyst = api_as(ANALYST)
    content = ContentFactory()
    assert analyst.get("/api/contents/").status_code == 200
    assert analyst.get(f"/api/contents/{content.pk}/").data["available_actions"] == []
    assert analyst.post(f"/api/contents/{content.pk}/submit/").status_code == 403
    assert analyst.post("/api/channels/", {"name": "x", "slug": "x", "kind": "slack"}).status_code == 403


def test_editing_approved_content_through_the_api_sends_it_back_to_review(marketer, make_user):
    author = marketer.user
    content = content_create(by=author, title="T", body="b")
    content_submit(content=content, by=author)
    content_approve(content=content, by=make_user("rev", role=APPROVER))
    response = marketer.patch(f"/api/contents/{content.pk}/", {"body": "changed"})
    assert response.status_code == 200 and response.data["status"] == ContentStatus.IN_REVIEW
    assert Content.objects.get().body == "changed"


def test_channel_kind_must_be_known(marketer):
    response = marketer.post(reverse("channel-list"), {"name": "X", "slug": "x", "kind": "friendster"})
    assert response.status_code == 400 and "kind" in response.data["fields"]


def _approved(make_user, title="Launch"):
    author, reviewer = make_user(f"author-{title}", role=MARKETER), make_user(f"boss-{title}", role=APPROVER)
    content = content_create(by=author, title=title, body="We shipped.", tags=["launch"])
    content_submit(content=content, by=author)
    return content_approve(content=content, by=reviewer)


def test_channels_per_content_item_are_set_read_back_and_posted_on(marketer, make_user, django_assert_num_queries):
    launch, recap = _approved(make_user), _approved(make_user, "Recap")
    slack, linkedin = ChannelFactory(kind="slack"), ChannelFactory(kind="linkedin")
    created = marketer.post("/api/campaigns/", {
        "name": "Spring", "starts_at": "2030-01-01T09:00:00Z", "channels": [slack.pk, linkedin.pk],
        "contents": [{"content": launch.pk, "channels": [linkedin.pk]}, {"content": recap.pk}]})
    assert created.status_code == 201, created.data
    assert [(row["content"], row["channels"]) for row in created.data["contents"]] == [
        (launch.pk, [linkedin.pk]), (recap.pk, [])]
    pk = created.data["id"]
    moved = marketer.patch(f"/api/campaigns/{pk}/", {"contents": [
        {"content": launch.pk, "channels": [slack.pk]}, {"content": recap.pk, "channels": [linkedin.pk]}]})
    assert moved.status_code == 200 and [row["channels"] for row in moved.data["contents"]] == [[slack.pk],
                                                                                               [linkedin.pk]]
    marketer.get("/api/campaigns/")
    with django_assert_num_queries(5):  # the channels of every content item in one more query
        assert marketer.get("/api/campaigns/").data["count"] == 1
    assert marketer.post(f"/api/campaigns/{pk}/activate/").status_code == 200
    assert sorted(PublishingJob.objects.values_list("content__title", "channel__kind")) == [
        ("Launch", "slack"), ("Recap", "linkedin")]


@pytest.mark.parametrize(("channels", "message"), [
    (["x"], "A valid integer is required."),
    ([2**63], "less than or equal to"),
    (list(range(1, 1002)), "no more than 1000"),
    ("outside", "Not a channel of this campaign"),
    ("unknown", "No active channel has the id"),
])
def test_bad_channels_of_a_content_item_are_field_errors(marketer, make_user, channels, message):
    content = _approved(make_user)
    slack, other = ChannelFactory(kind="slack"), ChannelFactory(kind="linkedin")
    if isinstance(channels, str):
        channels = {"outside": [other.pk], "unknown": [other.pk + 100]}[channels]
    response = marketer.post("/api/campaigns/", {"name": "C", "channels": [slack.pk],
                                                 "contents": [{"content": content.pk, "channels": channels}]})
    assert response.status_code == 400
    assert message in str(response.data["fields"]["contents"][0]["channels"])


def test_a_scheduled_post_is_moved_to_another_day_through_the_api(marketer):
    job = JobFactory(scheduled_at=timezone.now() + timedelta(days=1))
    before = timezone.localtime(job.scheduled_at)
    day = (before + timedelta(days=3)).date()
    moved = marketer.post(f"/api/jobs/{job.pk}/reschedule/", {"day": day.isoformat(), "note": "After the launch"})
    assert moved.status_code == 200, moved.data
    job.refresh_from_db()
    assert timezone.localtime(job.scheduled_at) == before + timedelta(days=3) and job.due_at == job.scheduled_at
    assert job.events.filter(note="After the launch").exists()


def test_moving_a_post_refuses_bad_days_and_posts_already_out(marketer, api_as):
    job = JobFactory(scheduled_at=timezone.now() + timedelta(days=1))
    url = f"/api/jobs/{job.pk}/reschedule/"
    for day, problem in (("", "day"), ("tomorrow", "day"), ("1800-01-01", "day"),
                         ((timezone.localdate() - timedelta(days=1)).isoformat(), "day")):
        response = marketer.post(url, {"day": day})
        assert response.status_code == 400 and problem in response.data["fields"], (day, response.data)
    PublishingJob.objects.filter(pk=job.pk).update(status=JobStatus.PUBLISHED)
    later = (timezone.localdate() + timedelta(days=5)).isoformat()
    assert marketer.post(url, {"day": later}).status_code == 409
    assert api_as(ANALYST).post(url, {"day": later}).status_code == 403
