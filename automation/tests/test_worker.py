"""Journeys end to end through real parts: a django-q2 worker and an aiosmtpd server for the welcome
journey driven by a real tracked click; `run_journeys --loop` processes killed with SIGKILL at random
points, and two of them at once, with no step applied twice or skipped for any contact."""

import os
import random
import re
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from django.utils import timezone
from django_q.tasks import async_task

from aicmo_site.testing.worker import ROOT, wait_for
from automation.choices import EnrolmentStatus
from automation.models import JourneyEnrolment, JourneyStepRun
from automation.services import journey_enrol
from automation.tests.factories import journey
from crm.models import Contact
from crm.tests.factories import ContactFactory, SegmentFactory
from publishing.email.services.tracking import fold_tracking_hits
from publishing.tests.email.factories import EmailTemplateFactory, smtp_account

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]
WORKER_ENV = {"PUBLIC_BASE_URL": "https://aicmo.example", "EMAIL_SEND_CONCURRENCY": "1"}
CONTACTS = 1500
LYON = {"op": "and", "rules": [{"field": "city", "operator": "eq", "value": "Lyon"}]}
# Seven steps, all internal: each contact's log must read visit 0..5 in this order of kinds, once each.
INTERNAL = [
    {"key": "tag", "kind": "add_tag", "config": {"tag": "welcomed"}, "next": "stage"},
    {"key": "stage", "kind": "set_lifecycle", "config": {"stage": "engaged"}, "next": "field"},
    {"key": "field", "kind": "set_field", "config": {"field": "journey", "value": "welcome"}, "next": "pause"},
    {"key": "pause", "kind": "wait", "config": {"seconds": 0}, "next": "split"},
    {"key": "split", "kind": "random_split", "config": {"percent": 50}, "next": "a", "other": "b"},
    {"key": "a", "kind": "add_tag", "config": {"tag": "path-a"}, "next": "end"},
    {"key": "b", "kind": "add_tag", "config": {"tag": "path-b"}, "next": "end"},
    {"key": "end", "kind": "exit"},
]


def enrolments_done(journey_id) -> bool:
    return not JourneyEnrolment.objects.filter(journey_id=journey_id).exclude(status=EnrolmentStatus.DONE).exists()


def tick(done):
    # The schedule runs every minute; the test asks the worker for the same task more often.
    async_task("automation.tasks.journeys_run")
    time.sleep(0.5)
    return done()


def test_welcome_journey_sends_once_waits_and_tags_who_clicked(qcluster, smtp_server):
    smtp_account(smtp_server)
    segment = SegmentFactory(rules=LYON)
    trip = journey(entry_triggers=[{"kind": "segment_entered", "segment_id": segment.pk}], steps=[
        {"key": "welcome", "kind": "send_email", "config": {"template_id": EmailTemplateFactory().pk},
         "next": "pause"},
        {"key": "pause", "kind": "wait", "config": {"seconds": 6}, "next": "clicked"},
        {"key": "clicked", "kind": "condition", "config": {"clicked_last_email": True}, "next": "tag",
         "other": "end"},
        {"key": "tag", "kind": "add_tag", "config": {"tag": "warm-lead"}, "next": "end"},
        {"key": "end", "kind": "exit"}])
    ann, bob = ContactFactory(city="Lyon", first_name="Ann"), ContactFactory(city="Lyon", first_name="Bob")
    ContactFactory(city="Oslo")
    qcluster(**WORKER_ENV)

    wait_for(lambda: tick(lambda: len(smtp_server.messages) >= 2), timeout=60, message="both welcome emails")
    arrived = {mail.rcpt_tos[0]: mail.message() for mail in smtp_server.messages}
    html = arrived[ann.email].get_body(("html",)).get_content()
    link = re.search(r'href="https://aicmo\.example(/t/c/[^"]+)"', html).group(1)
    assert Client().get(link).status_code == 302
    fold_tracking_hits()
    wait_for(lambda: tick(lambda: enrolments_done(trip.pk)), timeout=60, message="both through the journey")

    assert sorted(Counter(address for mail in smtp_server.messages for address in mail.rcpt_tos).items()) == sorted(
        [(ann.email, 1), (bob.email, 1)])
    assert list(ann.tags.values_list("name", flat=True)) == ["warm-lead"] and not bob.tags.exists()
    paths = {contact.pk: list(JourneyStepRun.objects.filter(enrolment__contact=contact).order_by("visit")
                              .values_list("step__key", "outcome")) for contact in (ann, bob)}
    assert paths[ann.pk] == [("welcome", "queued"), ("pause", "waited"), ("clicked", "yes"), ("tag", "next"),
                             ("end", "exit")]
    assert paths[bob.pk] == [("welcome", "queued"), ("pause", "waited"), ("clicked", "no"), ("end", "exit")]


def test_a_wait_for_a_click_is_released_by_the_tracked_click_and_the_other_contact_times_out(qcluster, smtp_server):
    smtp_account(smtp_server)
    trip = journey(steps=[
        {"key": "welcome", "kind": "send_email", "config": {"template_id": EmailTemplateFactory().pk},
         "next": "click"},
        {"key": "click", "kind": "wait_event", "config": {"event": "clicked", "journey_email": True, "seconds": 40},
         "next": "tag", "other": "end"},
        {"key": "tag", "kind": "add_tag", "config": {"tag": "clicked"}, "next": "end"},
        {"key": "end", "kind": "exit"}])
    ann, bob = ContactFactory(), ContactFactory()
    journey_enrol(journey=trip, contacts=Contact.objects.filter(pk__in=[ann.pk, bob.pk]), source="test")
    qcluster(**WORKER_ENV)
    awaiting = JourneyEnrolment.objects.filter(journey=trip, status=EnrolmentStatus.AWAITING)
    wait_for(lambda: tick(lambda: len(smtp_server.messages) >= 2 and awaiting.count() == 2), timeout=60,
             message="both emails sent and both contacts awaiting the click")
    html = next(mail.message() for mail in smtp_server.messages if mail.rcpt_tos[0] == ann.email).get_body(
        ("html",)).get_content()
    assert Client().get(re.search(r'href="https://aicmo\.example(/t/c/[^"]+)"', html).group(1)).status_code == 302
    # No journeys run asked for: the fold of the click (a task, as the minute's schedule runs it) and then the
    # click's own task (crm's event_recorded) move her on.
    async_task("publishing.email.tasks.email_fold_tracking_hits")
    wait_for(lambda: not awaiting.filter(contact=ann).exists(), timeout=30, message="the click releasing Ann")
    assert awaiting.filter(contact=bob).exists()
    # His forty seconds are over at once (the wait ends at its due time): the runner finds him still awaiting.
    awaiting.filter(contact=bob).update(due_at=timezone.now())
    wait_for(lambda: tick(lambda: enrolments_done(trip.pk)), timeout=90, message="Bob timing out")
    paths = {contact.pk: list(JourneyStepRun.objects.filter(enrolment__contact=contact).order_by("visit")
                              .values_list("step__key", "outcome")) for contact in (ann, bob)}
    assert paths[ann.pk] == [("welcome", "queued"), ("click", "awaiting"), ("click", "event"), ("tag", "next"),
                             ("end", "exit")]
    assert paths[bob.pk] == [("welcome", "queued"), ("click", "awaiting"), ("click", "timed out"), ("end", "exit")]
    assert list(ann.tags.values_list("name", flat=True)) == ["clicked"] and not bob.tags.exists()


class Runners:
    """`manage.py run_journeys --loop` processes on the test database, each in its own process group."""

    def __init__(self):
        self.processes: list[subprocess.Popen] = []
        self.log = Path(settings.MEDIA_ROOT).parent / f"runners-{os.getpid()}-{uuid.uuid4().hex[:8]}.log"
        self._log = open(self.log, "ab")  # noqa: SIM115 - closed in close()

    def start(self, batch: int = 25, **extra_env) -> subprocess.Popen:
        env = {**os.environ, "DJANGO_SETTINGS_MODULE": "aicmo_site.settings.test",
               "AICMO_TEST_WORKER_DATABASE": connection.settings_dict["NAME"], **extra_env}
        process = subprocess.Popen(
            [sys.executable, str(ROOT / "manage.py"), "run_journeys", "--loop", "--every", "0.1", "--batch",
             str(batch), "--no-triggers"], cwd=ROOT, env=env, stdout=self._log, stderr=subprocess.STDOUT,
            start_new_session=True)
        self.processes.append(process)
        return process

    @staticmethod
    def kill(process: subprocess.Popen) -> None:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)

    def close(self) -> None:
        for process in self.processes:
            self.kill(process)
        self._log.close()


@pytest.fixture
def runners(transactional_db):
    running = Runners()
    yield running
    running.close()


def assert_each_step_once(trip, contacts: int) -> None:
    """Every contact finished, its log reads visits 0.. with no gap and no repeat along one path of the
    graph, and the effects are there exactly (one lifecycle move each, one of the two split tags)."""
    enrolments = JourneyEnrolment.objects.filter(journey=trip)
    assert enrolments.count() == contacts and enrolments_done(trip.pk)
    logs: dict[int, list[tuple[int, str]]] = {}
    for enrolment_id, visit, key in JourneyStepRun.objects.filter(enrolment__journey=trip).order_by(
            "enrolment", "visit").values_list("enrolment_id", "visit", "step__key"):
        logs.setdefault(enrolment_id, []).append((visit, key))
    head = ["tag", "stage", "field", "pause", "split"]
    for enrolment_id, log in logs.items():
        keys = [key for _, key in log]
        assert [visit for visit, _ in log] == list(range(7)), (enrolment_id, log)
        assert keys[:5] == head and keys[5] in ("a", "b") and keys[6] == "end", (enrolment_id, log)
    assert len(logs) == contacts
    assert set(enrolments.values_list("visit", flat=True)) == {7}
    picked = Contact.objects.filter(pk__in=enrolments.values("contact_id"))
    assert picked.filter(tags__name="welcomed").count() == contacts
    assert picked.filter(tags__name__in=["path-a", "path-b"]).count() == contacts
    from crm.models import LifecycleTransition

    assert LifecycleTransition.objects.filter(contact__in=picked, to_status="engaged").count() == contacts


def enrol_many(count: int):
    trip = journey(steps=INTERNAL, name=f"Killed {uuid.uuid4().hex[:6]}")
    created = Contact.objects.bulk_create([Contact(email=f"k{n}-{uuid.uuid4().hex[:6]}@example.org",
                                                   domain="example.org") for n in range(count)])
    journey_enrol(journey=trip, contacts=Contact.objects.filter(pk__in=[contact.pk for contact in created]),
                  source="test")
    return trip


def kill_at_random_points(runners, applied, total: int, *, rng, seed, tries: int, batches: list[int]) -> int:
    """Starts a runner, kills it, again, until `applied` (the step log) reaches `total` or after `tries`;
    returns how many were killed."""
    kills = 0
    for attempt in range(tries):
        before = applied.count()
        if before == total:
            break
        process = runners.start(batch=rng.choice(batches))
        # Killed at a random point of its work, measured in steps applied, not in seconds: an idle machine
        # finished the whole journey within half a second of the first commit. Each try takes at most its
        # share of what is left, so the later tries still find work; the short random sleep moves the
        # kill off the commit that reached the target.
        target = before + rng.randint(1, max(1, (total - before) // (tries - attempt)))
        wait_for(lambda target=target: applied.count() >= target, timeout=60, interval=0.002,
                 message=f"progress (seed {seed})")
        time.sleep(rng.uniform(0, 0.02))
        runners.kill(process)
        kills += 1
    return kills


def test_runners_killed_at_random_points_never_apply_a_step_twice_nor_skip_one(runners):
    seed = random.randrange(1 << 30)
    rng = random.Random(seed)
    trip = enrol_many(CONTACTS)
    applied = JourneyStepRun.objects.filter(enrolment__journey=trip)
    kills = kill_at_random_points(runners, applied, CONTACTS * 7, rng=rng, seed=seed, tries=12, batches=[10, 25, 50])
    assert kills >= 5, f"the runners finished before most kills: the kills tested little (seed {seed})"
    runners.start()
    wait_for(lambda: enrolments_done(trip.pk), timeout=120, message=f"every contact through (seed {seed})")
    assert_each_step_once(trip, CONTACTS)


def test_two_runners_at_once_share_the_work_without_repeating_it(runners):
    trip = enrol_many(800)
    runners.start(batch=20)
    runners.start(batch=20)
    wait_for(lambda: enrolments_done(trip.pk), timeout=120, message="every contact through")
    assert_each_step_once(trip, 800)


def test_the_worker_leaves_due_steps_to_a_live_runner_loop_and_takes_over_when_it_dies(qcluster, runners):
    from django_q.models import Task

    from automation.models import RunnerLoop

    # Silent for 5 s, a loop is taken for dead (it says it is alive every 0.8 s, between batches of 25).
    alive = {"JOURNEYS_LOOP_ALIVE_SECONDS": "5"}
    loop = runners.start(**alive)
    wait_for(RunnerLoop.objects.exists, timeout=60, message="the loop saying it is alive")
    qcluster(**WORKER_ENV, **alive)
    first = enrol_many(300)
    wait_for(lambda: tick(lambda: enrolments_done(first.pk)), timeout=120, message="the loop taking everyone")
    minutes = Task.objects.filter(func="automation.tasks.journeys_run")
    wait_for(lambda: tick(minutes.exists), timeout=60, message="a run of the worker's minute")
    runs = [task.result for task in minutes]
    assert runs and all(run["steps"] == 0 and run["left_to_runner_loop"] for run in runs), runs

    runners.kill(loop)
    Task.objects.all().delete()
    second = enrol_many(300)
    wait_for(lambda: tick(lambda: enrolments_done(second.pk)), timeout=120, message="the worker taking over")

    def taken():
        return [task.result["steps"] for task in Task.objects.filter(func__startswith="automation.tasks.journeys_run")]

    # A task's result is stored after its last batch has committed: the enrolments may be done a moment before.
    wait_for(lambda: sum(taken()) >= 300 * 7, timeout=30, message="the worker's runs storing their steps")
    assert sum(taken()) == 300 * 7, taken()
    assert_each_step_once(first, 300)
    assert_each_step_once(second, 300)
