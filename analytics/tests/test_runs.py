"""Analytics rebuilds a person asks for run as background runs: one of each kind at a time, progress
from the rebuild's chunks, the result of the work, and the API answering with the run."""

import datetime as dt

import pytest

from aicmo_site.errors import ConflictError
from aicmo_site.models import BackgroundRun, RunStatus
from analytics.models import CampaignChannelDay
from analytics.services.runs import rollup_rebuild_start, scores_recompute_start
from analytics.tasks import rollup_rebuild_run, scores_recompute_run
from crm.tests.factories import ContactFactory, EngagementEventFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def queue(monkeypatch):
    enqueued = []
    monkeypatch.setattr("aicmo_site.runs.async_task", lambda func, *args, **kw: enqueued.append((func, args)))
    return enqueued


def test_a_rebuild_run_rebuilds_reports_progress_and_its_result(queue, make_user):
    contact = ContactFactory()
    for day in range(1, 4):
        EngagementEventFactory(contact=contact, kind="sent", campaign_id=2,
                               occurred_at=dt.datetime(2026, 3, day, 12, tzinfo=dt.UTC))
    run = rollup_rebuild_start(by=make_user("ada"))

    rollup_rebuild_run(run.pk)

    run.refresh_from_db()
    assert (run.status, run.result["events_folded"], run.progress, run.error) == (RunStatus.COMPLETED, 3, 100, "")
    assert run.done == run.total > 0
    assert sum(row.sent for row in CampaignChannelDay.objects.all()) == 3


def test_a_second_rebuild_while_one_is_open_is_refused_with_the_open_run(queue):
    first = rollup_rebuild_start()
    with pytest.raises(ConflictError) as refused:
        rollup_rebuild_start()
    assert refused.value.code == "already_running" and refused.value.extra == {"run": first.pk}
    assert BackgroundRun.objects.count() == 1
    rollup_rebuild_run(first.pk)
    assert rollup_rebuild_start().pk != first.pk  # once it ended, a new one may start


def test_a_score_recompute_run_scores_every_contact(queue):
    ContactFactory.create_batch(2)
    run = scores_recompute_start()
    scores_recompute_run(run.pk)
    run.refresh_from_db()
    assert run.status == RunStatus.COMPLETED and run.result["contacts_scored"] == 2


def test_the_api_answers_with_the_run_and_keeps_rebuilds_for_administrators(api_as, queue):
    assert api_as("Marketer").post("/api/analytics/rebuild/").status_code == 403
    answer = api_as("Admin").post("/api/analytics/rebuild/")
    assert answer.status_code == 202 and answer.json()["kind"] == "rollup_rebuild" and "task_id" not in answer.json()
    again = api_as("Admin", "other-admin").post("/api/analytics/rebuild/")
    assert again.status_code == 409 and again.json()["code"] == "already_running"
    assert api_as("Analyst").post("/api/analytics/scores/recompute/").status_code == 403
    scores = api_as("Marketer", "mia").post("/api/analytics/scores/recompute/")
    assert scores.status_code == 202 and scores.json()["requested_by"] == "mia"
