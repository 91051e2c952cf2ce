import pytest
from django.core.management import call_command
from django_q.models import Schedule

from publishing import dispatcher, schedules, tasks
from publishing.email import schedules as email_schedules

pytestmark = pytest.mark.django_db


def test_setup_schedules_writes_the_dispatcher_and_metrics_schedules_once():
    call_command("setup_schedules")
    call_command("setup_schedules")
    dispatch = Schedule.objects.get(name="publishing: dispatch due posts")
    assert (dispatch.func, dispatch.schedule_type, dispatch.minutes) == ("publishing.tasks.dispatch_loop", "I", 1)
    assert Schedule.objects.filter(func="publishing.tasks.metrics_pull").count() == 1


def test_setup_schedules_writes_the_email_schedules_found_through_the_registry_once():
    call_command("setup_schedules")
    call_command("setup_schedules")
    written = Schedule.objects.filter(func__startswith="publishing.email.tasks.")
    assert sorted(written.values_list("name", "func")) == sorted(
        (spec["name"], spec["func"]) for spec in email_schedules.SCHEDULES)
    assert len(email_schedules.SCHEDULES) == 4


def test_the_next_dispatcher_run_counts_as_queued_once_the_schedule_names_a_new_task():
    call_command("setup_schedules")
    Schedule.objects.filter(name=schedules.DISPATCH).update(task="run-1")
    queued = schedules.next_dispatch_queued()
    assert queued() is False

    Schedule.objects.filter(name=schedules.DISPATCH).update(task="run-2")

    assert queued() is True


def test_a_scheduled_run_hands_over_to_the_next_one_and_a_timed_run_does_not(monkeypatch):
    calls = []
    monkeypatch.setattr(dispatcher, "dispatch_loop", lambda **kwargs: calls.append(kwargs) or {})

    tasks.dispatch_loop()
    tasks.dispatch_loop(5)

    assert callable(calls[0]["relieved"]) and calls[0].get("seconds") is None
    assert calls[1] == {"seconds": 5}


def test_a_run_polls_past_its_time_until_relieved_then_stops_after_the_hand_over(settings):
    settings.PUBLISHING_DISPATCH_HANDOFF_SECONDS = 0
    answers = iter([False, False, True])
    asked = []

    def relieved():
        asked.append(True)
        return next(answers)

    dispatcher.dispatch_loop(seconds=0.3, poll=0.001, relieved=relieved)

    assert len(asked) == 3  # asked until it said yes, and not after


def test_a_run_that_is_never_relieved_still_ends():
    asked = []

    dispatcher.dispatch_loop(seconds=0.1, poll=0.001, relieved=lambda: asked.append(True) and False)

    assert asked
