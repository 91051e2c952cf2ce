"""Tasks for people: the journey step that creates them, marking one done, the API and the Tasks page."""

from datetime import timedelta

import pytest
from auditlog.models import LogEntry
from django.core.exceptions import ValidationError
from django.utils import timezone

from aicmo_site.errors import DomainError
from aicmo_site.roles import MARKETER
from automation.models import Task
from automation.services import journey_create, task_mark_done
from automation.tests.test_runner import END, outcomes, run
from crm.tests.factories import ContactFactory

pytestmark = pytest.mark.django_db


def task_step(**config):
    return [{"key": "task", "kind": "create_task", "config": config, "next": "end"}, END]


def test_a_task_step_creates_one_task_per_contact_for_its_person(make_user):
    sam = make_user("sam", role=MARKETER)
    ann, bob = ContactFactory(), ContactFactory()
    trip = run(ann, bob, steps=task_step(title="Call them", user_id=sam.pk, due_in_days=2))
    tasks = Task.objects.order_by("contact_id")
    assert list(tasks.values_list("contact_id", "assignee_id", "title", "done")) == [
        (ann.pk, sam.pk, "Call them", False), (bob.pk, sam.pk, "Call them", False)]
    assert tasks[0].due_on == timezone.localdate() + timedelta(days=2)
    assert tasks[0].step.journey == trip and outcomes(ann)[0] == ("task", "next")


@pytest.mark.parametrize(("config", "errors"), [
    ({}, ["Give the task a title (at most 200 characters).", "Choose the person the task is for."]),
    ({"title": "x" * 201, "user_id": "me"}, ["Give the task a title (at most 200 characters).",
                                             "Choose the person the task is for."]),
    ({"title": "Call", "due_in_days": -1}, ["Choose the person the task is for.",
                                            "Give the due date as 0 to 365 days after the step, or none."]),
])
def test_a_task_step_without_a_title_person_or_sane_due_date_is_refused(config, errors):
    with pytest.raises(ValidationError) as refused:
        journey_create(name="Broken", steps=task_step(**config))
    assert refused.value.message_dict == {"steps[0].config": errors}


def test_only_the_assignee_or_who_may_change_tasks_marks_one_done_and_twice_is_once(make_user):
    sam, other = make_user("sam", role=MARKETER), make_user("other")
    run(ContactFactory(), steps=task_step(title="Call", user_id=sam.pk))
    task = Task.objects.get()
    with pytest.raises(DomainError, match="Only the person"):
        task_mark_done(task=task, by=other)
    done = task_mark_done(task=task, by=sam)
    first = done.done_at
    assert done.done and task_mark_done(task=task, by=sam).done_at == first


def test_the_api_lists_my_open_tasks_and_marks_one_done(api_as, make_user, django_assert_max_num_queries):
    client = api_as(MARKETER)
    someone = make_user("someone", role=MARKETER)
    contacts = [ContactFactory() for _ in range(4)]
    run(*contacts[:3], steps=task_step(title="Call", user_id=client.user.pk))
    run(contacts[3], name="Other", steps=task_step(title="Not mine", user_id=someone.pk))
    with django_assert_max_num_queries(6):
        listed = client.get("/api/tasks/").json()
    assert listed["count"] == 3 and {row["title"] for row in listed["results"]} == {"Call"}
    assert listed["results"][0]["journey"] == "Welcome"
    mine = listed["results"][0]["id"]
    assert client.post(f"/api/tasks/{mine}/done/").json()["done"] is True
    assert client.get("/api/tasks/").json()["count"] == 2
    assert client.get("/api/tasks/?done=true").json()["count"] == 1
    theirs = Task.objects.get(assignee=someone).pk
    assert client.post(f"/api/tasks/{theirs}/done/").status_code == 404
    assert not Task.objects.get(pk=theirs).done


def marked_done(task) -> list:
    return [entry for entry in LogEntry.objects.get_for_object(task) if "done" in entry.changes_dict]


def test_the_tasks_page_filters_searches_pages_and_marks_done(client, make_user, django_assert_max_num_queries):
    sam = make_user("sam", role=MARKETER)
    client.force_login(sam)
    contacts = [ContactFactory(email=f"lead{n}@example.com") for n in range(27)]
    run(*contacts, steps=task_step(title="Call", user_id=sam.pk))
    with django_assert_max_num_queries(12):
        page = client.get("/journeys/tasks/").content.decode()
    assert page.count('data-done="false"') == 25 and "Page 1 of 2 (27 tasks)" in page
    assert client.get("/journeys/tasks/?q=lead13").content.decode().count("<tr data-done") == 1
    task = Task.objects.get(contact=contacts[13])
    answer = client.post(f"/journeys/tasks/{task.pk}/done/", {"back": "/journeys/tasks/?q=lead13"})
    assert answer.status_code == 302 and answer["Location"] == "/journeys/tasks/?q=lead13"
    assert client.get("/journeys/tasks/?shown=done").content.decode().count('data-done="true"') == 1
    [entry] = marked_done(task)
    assert (entry.actor, entry.changes_dict["done"]) == (sam, ["False", "True"])
    assert client.post(f"/journeys/tasks/{task.pk}/done/", {"back": "https://evil.example/"})["Location"] == (
        "/journeys/tasks/")
    assert len(marked_done(task)) == 1
    assert "No open task matches" in client.get("/journeys/tasks/?q=nobody").content.decode()
