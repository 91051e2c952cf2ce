"""Background runs: started after commit, moved by one transition function, worked once, shown by the
"Background work" pages and /api/runs/, and flagged when stuck (queued ones too)."""

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from aicmo_site.errors import ConflictError
from aicmo_site.models import BackgroundRun, RunKind, RunStatus
from aicmo_site.roles import ANALYST, MARKETER
from aicmo_site.runs import RunFailed, run_enqueue, run_progress, run_transition, run_work
from aicmo_site.stuck import stuck_work_everywhere

pytestmark = pytest.mark.django_db


@pytest.fixture
def queue(monkeypatch):
    """The queue's client: what would be handed to a worker."""
    enqueued = []
    monkeypatch.setattr("aicmo_site.runs.async_task", lambda func, *args, **kw: enqueued.append((func, args, kw)))
    return enqueued


def a_run(**fields) -> BackgroundRun:
    return BackgroundRun.objects.create(kind=fields.pop("kind", RunKind.AIRTABLE_SYNC), **fields)


def test_the_task_is_enqueued_only_once_the_run_is_committed(queue, make_user, django_capture_on_commit_callbacks):
    ann = make_user("ann")
    with django_capture_on_commit_callbacks(execute=True):
        run = run_enqueue(kind=RunKind.AIRTABLE_SYNC, task="crm.data_tasks.airtable_sync_run", by=ann,
                          label="Push", total=7, task_kwargs={"full": True})
        assert queue == []
    assert queue == [("crm.data_tasks.airtable_sync_run", (run.pk,), {"task_name": f"run-{run.pk}", "full": True})]
    assert (run.status, run.requested_by, run.total, run.progress) == (RunStatus.QUEUED, ann, 7, 0)


def test_a_rolled_back_run_enqueues_nothing(queue, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        with pytest.raises(RuntimeError), transaction.atomic():
            run_enqueue(kind=RunKind.AIRTABLE_SYNC, task="crm.data_tasks.airtable_sync_run")
            raise RuntimeError("the request failed after starting the run")
    assert queue == [] and not BackgroundRun.objects.exists()


def test_working_a_run_records_its_result_and_a_second_time_does_nothing():
    run = a_run(total=3)
    calls = []

    def work(claimed):
        calls.append(claimed.status)
        run_progress(run_id=claimed.pk, done=2)
        assert BackgroundRun.objects.get(pk=claimed.pk).progress == 67
        return {"contacts": 3}

    done = run_work(run.pk, work)
    again = run_work(run.pk, work)

    assert calls == [RunStatus.RUNNING]
    assert (done.status, done.result, done.done, done.progress, done.error) == (RunStatus.COMPLETED, {"contacts": 3},
                                                                                3, 100, "")
    assert done.started_at and done.finished_at and again.finished_at == done.finished_at


def test_a_named_failure_keeps_its_counts_and_an_unexpected_one_points_to_the_log():
    named, unexpected = a_run(), a_run()

    def stopped(_run):
        raise RunFailed("Airtable refused the token.", result={"contacts": 10})

    run_work(named.pk, stopped)
    run_work(unexpected.pk, lambda _run: 1 / 0)

    named.refresh_from_db()
    unexpected.refresh_from_db()
    assert (named.status, named.error, named.result) == (RunStatus.FAILED, "Airtable refused the token.",
                                                         {"contacts": 10})
    assert unexpected.status == RunStatus.FAILED and "server log" in unexpected.error


def test_a_finished_run_cannot_move_and_progress_after_a_cancel_is_ignored():
    run = a_run()
    run_transition(run_id=run.pk, to=RunStatus.CANCELED)
    with pytest.raises(ConflictError):
        run_transition(run_id=run.pk, to=RunStatus.RUNNING)
    run_progress(run_id=run.pk, done=5)
    assert BackgroundRun.objects.get(pk=run.pk).done == 0


def test_a_run_without_a_total_shows_no_made_up_percentage():
    assert a_run(status=RunStatus.RUNNING).progress is None


def test_a_run_queued_too_long_is_stuck_but_a_fresh_one_is_not(settings):
    settings.STUCK_AFTER_MINUTES = 30
    old, fresh = a_run(label="Old push"), a_run(label="Fresh push")
    BackgroundRun.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(hours=2))
    ended = a_run(label="Done long ago", status=RunStatus.COMPLETED)
    BackgroundRun.objects.filter(pk__in=[ended.pk, fresh.pk]).update(progressed_at=timezone.now())
    BackgroundRun.objects.filter(pk=ended.pk).update(created_at=timezone.now() - timedelta(hours=3))

    stuck = [item for item in stuck_work_everywhere() if item.kind == "Airtable sync"]

    assert [(item.name, item.url) for item in stuck] == [("Old push", f"/runs/{old.pk}/")]


def test_the_api_lists_and_filters_runs_without_a_query_per_run(api_as, make_user, django_assert_num_queries):
    client = api_as(ANALYST, "ana")
    mine = a_run(label="Mine", requested_by=client.user, total=4, done=1, status=RunStatus.RUNNING)
    for n in range(5):
        a_run(label=f"Other {n}", kind=RunKind.RENDITIONS, requested_by=make_user(f"other{n}"))

    with django_assert_num_queries(4):  # the permissions (own, groups), the count, the page with people joined
        everything = client.get("/api/runs/").json()
    assert everything["count"] == 6
    detail = client.get(f"/api/runs/{mine.pk}/").json()
    assert {k: detail[k] for k in ("kind", "status", "progress", "done", "total")} == {
        "kind": "airtable_sync", "status": "running", "progress": 25, "done": 1, "total": 4}
    assert detail["url"].endswith(f"/api/runs/{mine.pk}/") and detail["page_url"].endswith(f"/runs/{mine.pk}/")
    assert "task_id" not in detail
    assert client.get("/api/runs/?kind=renditions").json()["count"] == 5
    assert client.get("/api/runs/?status=running").json()["count"] == 1
    assert [run["label"] for run in client.get("/api/runs/?mine=true").json()["results"]] == ["Mine"]


def test_the_api_answers_400_naming_a_bad_filter(api_as):
    answer = api_as(ANALYST).get("/api/runs/?kind=teleport")
    assert answer.status_code == 400 and "kind" in str(answer.json())


def test_only_mine_shows_the_runs_i_asked_for(client, make_user):
    ann, bob = make_user("ann", role=MARKETER), make_user("bob", role=MARKETER)
    a_run(label="Ann's push", requested_by=ann)
    a_run(label="Bob's push", requested_by=bob)
    client.force_login(ann)

    text = client.get("/runs/?mine=true").content.decode()

    assert "Ann&#x27;s push" in text and "Bob&#x27;s push" not in text


def test_the_page_lists_runs_with_progress_and_polls_only_while_one_is_open(client, make_user,
                                                                          django_assert_max_num_queries):
    client.force_login(make_user("ann", role=ANALYST))
    for n in range(30):
        a_run(label=f"Push {n}", requested_by=make_user(f"p{n}"), status=RunStatus.COMPLETED, total=3, done=3)
    running = a_run(label="Busy", status=RunStatus.RUNNING, total=10, done=4)

    with django_assert_max_num_queries(12) as counted:
        text = client.get("/runs/").content.decode()
    few = len(counted.captured_queries)
    BackgroundRun.objects.filter(pk__lte=running.pk - 20).delete()
    with django_assert_max_num_queries(few):  # the same queries for 11 runs as for 31
        client.get("/runs/")

    assert 'hx-trigger="every 2s"' in text and 'aria-valuenow="40"' in text
    assert f'href="/runs/{running.pk}/"' in text
    BackgroundRun.objects.filter(pk=running.pk).update(status=RunStatus.COMPLETED)
    fragment = client.get("/runs/", headers={"HX-Request": "true"}).content.decode()
    assert fragment.startswith('<tbody id="run-rows"') and "hx-trigger" not in fragment


def test_a_bad_filter_on_the_page_is_named_not_a_crash(client, make_user):
    client.force_login(make_user("ann", role=ANALYST))
    answer = client.get("/runs/?status=exploded")
    assert answer.status_code == 200 and "Select a valid choice" in answer.content.decode()


def test_the_run_page_shows_its_result_error_and_link(client, make_user):
    client.force_login(make_user("ann", role=ANALYST))
    run = a_run(label="Push every contact", status=RunStatus.FAILED, error="Airtable refused the token.",
                result={"contacts": 10, "failed": [{"email": "a@b.c"}], "skipped": False}, link="/contacts/")

    text = client.get(f"/runs/{run.pk}/").content.decode()

    assert "Airtable refused the token." in text and 'href="/contacts/"' in text
    assert "<th scope=\"row\">Contacts</th><td>10</td>" in text and "<th scope=\"row\">Failed</th><td>1</td>" in text
    assert "hx-trigger" not in text
    assert client.get("/runs/999999/").status_code == 404


def test_the_schema_documents_the_runs_and_the_push_answering_with_one(api_as):
    schema = api_as(ANALYST).get("/api/schema/", {"format": "json"}).json()
    assert {"/api/runs/", "/api/runs/{id}/"} <= set(schema["paths"])
    push = schema["paths"]["/api/exports/airtable/"]["post"]["responses"]["202"]
    assert push["content"]["application/json"]["schema"]["$ref"].endswith("/BackgroundRun")


def test_someone_without_a_role_sees_no_background_work(client, api_as, make_user):
    a_run(label="Import of leads.csv")
    client.force_login(make_user("newcomer"))
    assert client.get("/runs/").status_code == 403
    assert 'href="/runs/"' not in client.get("/").content.decode()
    assert api_as(None).get("/api/runs/").status_code == 403
