"""An awaited event and the wait's timeout reaching the same contacts at the same moment on
PostgreSQL: the release and the runner, on two connections, each claim with SKIP LOCKED; every
contact must be moved exactly once, by one or the other, and the step after run once."""

import random
import threading
import time
from collections import Counter
from datetime import timedelta

import pytest
from django import db
from django.db import connection
from django.utils import timezone

from automation.models import JourneyStepRun
from automation.services import journey_enrol, journeys_event_waits_release, journeys_run_batch, journeys_run_due
from automation.tests.factories import journey
from crm.choices import EventKind
from crm.models import Contact, EngagementEvent
from crm.tests.factories import ContactFactory

pytestmark = [pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL row locks"),
              pytest.mark.django_db(transaction=True)]
ROUNDS = 5
CONTACTS = 150
STEPS = [{"key": "wait", "kind": "wait_event", "config": {"event": "clicked", "minutes": 10}, "next": "tag",
          "other": "late"},
         {"key": "tag", "kind": "add_tag", "config": {"tag": "clicked"}, "next": "end"},
         {"key": "late", "kind": "add_tag", "config": {"tag": "timed-out"}, "next": "end"},
         {"key": "end", "kind": "exit"}]


def _at_once(*calls) -> list[BaseException]:
    gate = threading.Barrier(len(calls))
    errors: list[BaseException] = []

    def run(call):
        try:
            gate.wait()
            call()
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            errors.append(exc)
        finally:
            db.connection.close()

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return errors


def test_an_event_racing_the_timeout_moves_each_contact_once():
    rng = random.Random(19)
    for round_number in range(ROUNDS):
        contacts = [ContactFactory() for _ in range(CONTACTS)]
        trip = journey(steps=STEPS, name=f"Race {round_number}")
        journey_enrol(journey=trip, contacts=Contact.objects.filter(pk__in=[c.pk for c in contacts]), source="t")
        journeys_run_due()
        EngagementEvent.objects.bulk_create(EngagementEvent(contact=c, kind=EventKind.CLICKED,
                                                            occurred_at=timezone.now()) for c in contacts)
        later = timezone.now() + timedelta(minutes=11)
        late = rng.uniform(0, 0.02)

        def timeouts(late=late, later=later):
            time.sleep(late)
            while journeys_run_batch(size=rng.choice((7, 25, 60)), now=later):
                pass

        assert _at_once(timeouts, lambda: journeys_event_waits_release(size=20)) == []
        journeys_run_due()
        runs = JourneyStepRun.objects.filter(enrolment__journey=trip)
        at_the_wait = Counter(runs.filter(step__key="wait").exclude(outcome="awaiting")
                              .values_list("enrolment_id", flat=True))
        assert len(at_the_wait) == CONTACTS and set(at_the_wait.values()) == {1}
        after = Counter(runs.filter(step__key__in=("tag", "late")).values_list("enrolment_id", flat=True))
        assert len(after) == CONTACTS and set(after.values()) == {1}
        tagged = Counter(Contact.tags.through.objects.filter(contact__in=contacts).values_list("contact_id", flat=True))
        assert len(tagged) == CONTACTS and set(tagged.values()) == {1}


def test_two_workers_on_a_new_tag_both_apply_their_batches():
    """Two runners on one "add tag" step whose tag does not exist yet: both create it at once; neither
    batch may fail, and every contact is tagged once."""
    contacts = [ContactFactory() for _ in range(CONTACTS)]
    trip = journey(steps=[{"key": "tag", "kind": "add_tag", "config": {"tag": "brand-new"}, "next": "end"},
                          {"key": "end", "kind": "exit"}], name="New tag race")
    journey_enrol(journey=trip, contacts=Contact.objects.filter(pk__in=[c.pk for c in contacts]), source="t")

    assert _at_once(lambda: journeys_run_batch(size=CONTACTS // 2),
                    lambda: journeys_run_batch(size=CONTACTS // 2)) == []

    tagged = Counter(Contact.tags.through.objects.filter(contact__in=contacts).values_list("contact_id", flat=True))
    assert len(tagged) == CONTACTS and set(tagged.values()) == {1}
