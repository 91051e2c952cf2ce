"""Urgency is copied to jobs when a campaign is activated; marking content urgent (or not) afterwards
reaches its posts that no dispatcher holds yet, through the service, the API and the edit page, and
needs no new review (what the posts say is unchanged)."""

import pytest
from django.urls import reverse

from aicmo_site.roles import MARKETER
from publishing.choices import ContentStatus, JobStatus
from publishing.forms import ContentForm
from publishing.models import PublishingJob
from publishing.services import content_update
from publishing.tests.factories import ContentFactory, JobFactory

pytestmark = pytest.mark.django_db
WAITING = (JobStatus.SCHEDULED, JobStatus.QUEUED, JobStatus.PAUSED)
SETTLED_OR_HELD = (JobStatus.PUBLISHING, JobStatus.PUBLISHED, JobStatus.FAILED)


@pytest.fixture
def scheduled_content():
    """Content of an active campaign: one job in every state, none urgent."""
    content = ContentFactory(status=ContentStatus.SCHEDULED)
    jobs = {status: JobFactory(content=content, status=status, urgent=False)
            for status in (*WAITING, *SETTLED_OR_HELD)}
    other = JobFactory(status=JobStatus.SCHEDULED, urgent=False)
    return content, jobs, other


def urgency(jobs: dict) -> dict:
    return dict(PublishingJob.objects.filter(pk__in=[j.pk for j in jobs.values()]).values_list("status", "urgent"))


def test_marking_content_urgent_reaches_its_waiting_jobs_only(scheduled_content, make_user):
    content, jobs, other = scheduled_content

    content_update(content=content, by=make_user("urgency-editor", role=MARKETER), urgent=True)

    assert urgency(jobs) == {**dict.fromkeys(WAITING, True), **dict.fromkeys(SETTLED_OR_HELD, False)}
    other.refresh_from_db()
    assert other.urgent is False
    content.refresh_from_db()
    assert content.status == ContentStatus.SCHEDULED, "urgency alone needs no new review"
    assert content.events.first().note == "Marked urgent"

    content_update(content=content, by=make_user("urgency-editor-2", role=MARKETER), urgent=False)

    assert not any(urgency(jobs).values())


def test_urgency_through_the_api(scheduled_content, api_as):
    content, jobs, _ = scheduled_content

    answer = api_as(MARKETER, "urgency-editor").patch(f"/api/contents/{content.pk}/", {"urgent": True}, format="json")

    assert answer.status_code == 200, answer.data
    assert answer.data["urgent"] is True and answer.data["status"] == ContentStatus.SCHEDULED
    assert urgency(jobs) == {**dict.fromkeys(WAITING, True), **dict.fromkeys(SETTLED_OR_HELD, False)}


def test_urgency_through_the_edit_page(scheduled_content, marketer_client):
    content, jobs, _ = scheduled_content
    form = {**ContentForm.initial_for(content), "urgent": "on"}
    form.pop("assets")

    answer = marketer_client.post(reverse("publishing:content-edit", args=[content.pk]), form)

    assert answer.status_code == 302, answer.content.decode()[:2000]
    assert urgency(jobs) == {**dict.fromkeys(WAITING, True), **dict.fromkeys(SETTLED_OR_HELD, False)}
    content.refresh_from_db()
    assert (content.urgent, content.status) == (True, ContentStatus.SCHEDULED)


def test_another_edit_with_urgency_still_goes_back_to_review(scheduled_content, make_user):
    content, jobs, _ = scheduled_content

    content_update(content=content, by=make_user("urgency-editor", role=MARKETER), urgent=True, title="New title")

    content.refresh_from_db()
    assert content.status == ContentStatus.IN_REVIEW
    assert urgency(jobs)[JobStatus.SCHEDULED] is True
