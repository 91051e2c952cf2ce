"""Content analysis from the API and the content page: queued, run, shown with the engine named."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from aicmo_site.roles import ANALYST, MARKETER
from publishing.services import analysis
from publishing.tests.factories import ChannelVersionFactory, ContentFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def content():
    content = ContentFactory()
    ChannelVersionFactory(content=content, kind="x", body="Faster imports are here, and they were built by us.")
    return content


def test_api_queues_runs_and_reports_the_local_analysis_as_not_ai(api_as, content,
                                                                  django_capture_on_commit_callbacks):
    marketer = api_as(MARKETER, "writer")
    with django_capture_on_commit_callbacks() as queued:
        started = marketer.post(f"/api/contents/{content.pk}/analyse/")
    assert started.status_code == 202, started.data
    assert len(queued) == 1
    assert [(row["kind"], row["status"], row["engine_label"]) for row in started.data] == [
        ("", "pending", "Local analysis (not AI)"), ("x", "pending", "Local analysis (not AI)")]

    analysis.content_analysis_run(content_id=content.pk)
    shown = marketer.get(f"/api/contents/{content.pk}/analysis/")

    assert shown.status_code == 200
    x = next(item for item in shown.data if item["kind"] == "x")
    assert x["label"] and x["analysis"]["status"] == "done" and x["analysis"]["quality_score"] is None
    assert x["analysis"]["measures"]["max_length"] == 280 and x["analysis"]["reasons"]


def test_api_reading_before_any_analysis_says_not_analysed(api_as, content):
    shown = api_as(ANALYST, "reader").get(f"/api/contents/{content.pk}/analysis/")
    assert shown.status_code == 200 and [item["analysis"] for item in shown.data] == [None, None]


def test_analysing_needs_the_right_to_change_content(api_as, content):
    assert api_as(ANALYST, "reader").post(f"/api/contents/{content.pk}/analyse/").status_code == 403


def test_content_page_starts_and_shows_the_analysis_labelled(marketer_client, content,
                                                             django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as queued:
        response = marketer_client.post(reverse("publishing:content-analyse", args=[content.pk]), follow=True)
    assert len(queued) == 1 and b"Analysis started for 2 texts" in response.content
    assert b"Waiting to run" in response.content
    analysis.content_analysis_run(content_id=content.pk)

    page = marketer_client.get(content.get_absolute_url()).content.decode()

    assert page.count("Local analysis (not AI)") == 2
    assert "Reading ease (Flesch)" in page and "AI analysis" not in page
    again = marketer_client.post(reverse("publishing:content-analyse", args=[content.pk]), follow=True)
    assert b"Nothing has changed since the last analysis" in again.content


def test_analyse_button_is_shown_only_to_people_who_may_use_it(client, make_user, content):
    client.force_login(make_user("reader", role=ANALYST))
    page = client.get(content.get_absolute_url())
    assert page.status_code == 200 and b"Content analysis" in page.content and b">Analyse<" not in page.content


def test_content_page_queries_do_not_grow_with_versions(marketer_client, content):
    analysis.content_analysis_request(content=content)
    with CaptureQueriesContext(connection) as one:
        marketer_client.get(content.get_absolute_url())
    for kind in ("mastodon", "bluesky", "linkedin"):
        ChannelVersionFactory(content=content, kind=kind)
    analysis.content_analysis_request(content=content)
    with CaptureQueriesContext(connection) as four:
        marketer_client.get(content.get_absolute_url())
    assert len(four) == len(one)


def test_content_page_says_why_the_local_analysis_ran_when_the_ai_budget_is_spent(
        marketer_client, content, httpserver, django_capture_on_commit_callbacks):
    from gateways import services as gateways
    from gateways.capabilities import Capability

    gateways.account_create(capability=Capability.TEXT_GENERATION, adapter="openai_chat", name="openai",
                            base_url=httpserver.url_for("").rstrip("/"), timeout_seconds=2,
                            credentials={"api_key": "sk-test-1234abcd"},
                            settings={"model": "gpt-4o-mini", "daily_request_budget": "0"})
    with django_capture_on_commit_callbacks():
        marketer_client.post(reverse("publishing:content-analyse", args=[content.pk]))
    analysis.content_analysis_run(content_id=content.pk)

    page = marketer_client.get(content.get_absolute_url()).content.decode()

    assert httpserver.log == []
    assert page.count("Local analysis (not AI)") == 2 and page.count("Not the AI: AI budget for today spent.") == 2
    assert "Reading ease (Flesch)" in page and "AI analysis" not in page
