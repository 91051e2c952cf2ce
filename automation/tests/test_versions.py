"""Editing a live journey: a new version for new entrants, those in flight moved when their step
still exists, the others finishing on the version they started."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from aicmo_site.errors import ConflictError
from aicmo_site.roles import MARKETER
from automation.models import JourneyEnrolment, JourneyStep, JourneyStepRun
from automation.services import (
    journey_enrol,
    journey_version_create,
    journey_version_migrate,
    journeys_run_batch,
    journeys_run_due,
)
from automation.tests.factories import journey
from crm.models import Contact
from crm.tests.factories import ContactFactory

pytestmark = pytest.mark.django_db
WAIT = {"key": "w", "kind": "wait", "config": {"days": 1}, "next": "b"}
END = {"key": "end", "kind": "exit"}
V1 = [WAIT, {"key": "b", "kind": "add_tag", "config": {"tag": "v1-b"}, "next": "c"},
      {"key": "c", "kind": "add_tag", "config": {"tag": "v1-c"}, "next": "end"}, END]
V2 = [WAIT, {"key": "b", "kind": "add_tag", "config": {"tag": "v2-b"}, "next": "end"}, END]


def enrol(trip, *contacts):
    journey_enrol(journey=trip, contacts=Contact.objects.filter(pk__in=[c.pk for c in contacts]), source="test")


def where(contact) -> tuple[int, str]:
    step = JourneyEnrolment.objects.select_related("step").get(contact=contact).step
    return step.version, step.key


def run_until_done():
    later = timezone.now() + timedelta(days=2)
    while journeys_run_batch(now=later):
        pass


def tags(contact) -> list[str]:
    return sorted(contact.tags.values_list("name", flat=True))


@pytest.fixture
def live():
    """Ann waits before b, Bob is on c (a step v2 drops), both on version 1."""
    trip = journey(steps=V1)
    ann, bob = ContactFactory(), ContactFactory()
    enrol(trip, ann, bob)
    journeys_run_due()
    JourneyEnrolment.objects.filter(contact=bob).update(step=JourneyStep.objects.get(journey=trip, key="c"))
    return trip, ann, bob


def test_new_entrants_start_on_the_new_version_and_those_in_flight_stay(live):
    trip, ann, bob = live
    trip = journey_version_create(journey=trip, steps=V2)
    carl = ContactFactory()
    enrol(trip, carl)
    journeys_run_due()
    assert (where(ann), where(bob), where(carl)) == ((1, "b"), (1, "c"), (2, "b"))
    run_until_done()
    assert (tags(ann), tags(bob), tags(carl)) == (["v1-b", "v1-c"], ["v1-c"], ["v2-b"])


def test_migrating_moves_those_whose_step_exists_and_leaves_the_others_on_their_version(live):
    trip, ann, bob = live
    trip = journey_version_create(journey=trip, steps=V2)
    assert journey_version_migrate(journey=trip) == 1
    assert journey_version_migrate(journey=trip) == 0
    assert (where(ann), where(bob)) == ((2, "b"), (1, "c"))
    run_until_done()
    assert (tags(ann), tags(bob)) == (["v2-b"], ["v1-c"])
    # The log keeps one row per visit across the move.
    assert list(JourneyStepRun.objects.filter(enrolment__contact=ann).order_by("visit").values_list(
        "visit", "step__version", "step__key")) == [(0, 1, "w"), (1, 2, "b"), (2, 2, "end")]


def test_a_step_that_changed_kind_is_not_migrated_to(live):
    trip, ann, _ = live
    changed = [WAIT, {"key": "b", "kind": "set_field", "config": {"field": "f", "value": 1}, "next": "end"}, END]
    trip = journey_version_create(journey=trip, steps=changed)
    assert journey_version_migrate(journey=trip) == 0
    assert where(ann) == (1, "b")


def test_a_new_version_is_checked_before_it_goes_live_and_a_draft_has_none(live):
    trip, _, _ = live
    with pytest.raises(ValidationError) as raised:
        journey_version_create(journey=trip, steps=[{"key": "w", "kind": "wait", "config": {"days": 1}}])
    assert "steps[0].next" in raised.value.message_dict
    trip.refresh_from_db()
    assert trip.version == 1 and not JourneyStep.objects.filter(journey=trip, version=2).exists()
    with pytest.raises(ConflictError):
        journey_version_create(journey=journey(name="Draft", active=False), steps=V2)


def test_the_api_makes_a_version_migrates_and_counts_contacts_per_version(live, api_as):
    trip, ann, bob = live
    client = api_as(MARKETER)
    url = f"/api/journeys/{trip.pk}/"
    bad = client.post(f"{url}new-version/", {"steps": [{"key": "w", "kind": "wait", "config": {"days": 1}}]},
                      format="json")
    assert bad.status_code == 400 and "steps[0].next" in str(bad.json())
    made = client.post(f"{url}new-version/", {"steps": V2}, format="json")
    assert made.status_code == 200, made.json()
    assert made.json()["version"] == 2 and [s["key"] for s in made.json()["steps"]] == ["w", "b", "end"]
    assert client.get(f"{url}stats/").json()["versions"] == [{"version": 1, "on_the_way": 2}]
    assert client.post(f"{url}migrate/").json() == {"migrated": 1}
    stats = client.get(f"{url}stats/").json()
    assert stats["version"] == 2
    assert stats["versions"] == [{"version": 1, "on_the_way": 1}, {"version": 2, "on_the_way": 1}]
    assert [s["on_step"] for s in stats["steps"]] == [0, 1, 0]
