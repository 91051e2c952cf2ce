"""`manage.py run_journeys`: the runner loop as its own process (run_all starts one)."""

import pytest
from django.core.management import call_command
from django.db import connection

from automation.choices import EnrolmentStatus
from automation.models import JourneyEnrolment, RunnerLoop
from automation.services import journey_enrol
from automation.services.loops import runner_loop_name
from automation.tests.factories import journey
from crm.models import Contact
from crm.tests.factories import ContactFactory

pytestmark = pytest.mark.django_db


class Idle(Exception):
    """Raised by the loop's first idle sleep: everything due was taken."""


def test_the_loop_takes_every_due_step_and_keeps_no_log_of_its_statements(monkeypatch, settings):
    # Given 30 contacts due on a tag-and-exit journey, and statements logged as with DEBUG on
    ContactFactory.create_batch(30)
    trip = journey()
    journey_enrol(journey=trip, contacts=Contact.objects.all(), source="test")

    def idle(seconds):
        raise Idle

    monkeypatch.setattr("automation.management.commands.run_journeys.time.sleep", idle)
    settings.DEBUG = True
    connection.queries_log.clear()
    # When the loop runs in batches of 5 until it first finds nothing due
    with pytest.raises(Idle):
        call_command("run_journeys", "--loop", "--batch", "5", "--no-triggers")
    # Then all went through, and the log holds no more than the last look's statements (and the loop's word
    # that it stopped; on PostgreSQL two more set the claim's plan), not the six batches'
    assert not JourneyEnrolment.objects.filter(journey=trip).exclude(status=EnrolmentStatus.DONE).exists()
    assert 0 < len(connection.queries_log) <= 8


def test_the_loop_says_it_is_alive_while_it_runs_and_that_it_stopped_when_stopped(monkeypatch):
    seen = []

    def stopped_when_idle(seconds):
        seen.append(list(RunnerLoop.objects.values_list("name", flat=True)))
        raise KeyboardInterrupt  # as run_all stops it: SIGINT

    monkeypatch.setattr("automation.management.commands.run_journeys.time.sleep", stopped_when_idle)
    call_command("run_journeys", "--loop", "--no-triggers")
    assert seen == [[runner_loop_name()]]
    assert not RunnerLoop.objects.exists()


def test_a_single_run_says_nothing_of_a_loop():
    call_command("run_journeys", "--no-triggers")
    assert not RunnerLoop.objects.exists()
