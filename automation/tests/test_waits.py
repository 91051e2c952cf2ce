"""Waits until a date, a contact's own date, a weekday and hour in the contact's time zone (across
daylight-saving changes), and until an event with a timeout, released exactly once."""

from datetime import UTC, datetime, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from automation.choices import EnrolmentStatus
from automation.models import JourneyEnrolment, JourneyStep, JourneyStepRun
from automation.services import (
    journey_enrol,
    journey_pause,
    journeys_event_waits_release,
    journeys_run_batch,
    journeys_run_due,
)
from automation.services.graph import graph_validate
from automation.tests.factories import journey
from crm.choices import EventKind
from crm.models import Contact
from crm.services import contact_record_event
from crm.tests.factories import ContactFactory
from publishing.tests.email.factories import EmailTemplateFactory, smtp_account

pytestmark = pytest.mark.django_db

END = {"key": "end", "kind": "exit"}
TAG = {"key": "tag", "kind": "add_tag", "config": {"tag": "reached"}, "next": "end"}


def wait_then_tag(config: dict) -> list[dict]:
    return [{"key": "wait", "kind": "wait", "config": config, "next": "tag"}, TAG, END]


def enrol(trip, *contacts):
    journey_enrol(journey=trip, contacts=Contact.objects.filter(pk__in=[c.pk for c in contacts]), source="test")


def place(contact) -> tuple[str, str, datetime | None]:
    enrolment = JourneyEnrolment.objects.select_related("step").get(contact=contact)
    return enrolment.step.key if enrolment.step else "", enrolment.status, enrolment.due_at


def outcomes(contact) -> list[tuple[str, str]]:
    return list(JourneyStepRun.objects.filter(enrolment__contact=contact).order_by("visit")
                .values_list("step__key", "outcome"))


@pytest.mark.parametrize(("config", "message"), [
    ({"weekday": "funday", "hour": 9}, "Choose a weekday"),
    ({"weekday": "monday", "hour": 24}, "Give the hour as 0 to 23."),
    ({"until": "next tuesday"}, "ISO 8601"),
    ({"until_field": "", "hour": 9}, "Name the contact's date field."),
    ({"until_field": "renewal", "offset_days": "two"}, "whole number"),
    ({"weekday": "monday", "days": 2}, "one of them"),
])
def test_a_wait_with_unusable_settings_is_refused_with_the_reason(config, message):
    with pytest.raises(ValidationError) as raised:
        graph_validate(wait_then_tag(config))
    assert message in str(raised.value.message_dict["steps[0].config"])


def test_a_wait_for_an_event_needs_the_event_a_timeout_and_both_ways_out():
    with pytest.raises(ValidationError) as raised:
        graph_validate([{"key": "w", "kind": "wait_event", "config": {"event": "teleported"}, "next": "end"}, END])
    errors = raised.value.message_dict
    assert "Choose an event" in errors["steps[0].config"][0]
    assert "before giving up" in errors["steps[0].config"][1]
    assert "when it does not in time" in errors["steps[0].other"][0]


def test_a_wait_until_a_fixed_date_holds_everyone_until_then():
    ann = ContactFactory()
    trip = journey(steps=wait_then_tag({"until": "2027-01-15T09:30:00+01:00"}))
    enrol(trip, ann)
    journeys_run_due()
    assert place(ann) == ("tag", EnrolmentStatus.WAITING, datetime(2027, 1, 15, 8, 30, tzinfo=UTC))


def test_a_wait_until_a_contacts_date_less_days_at_an_hour_in_their_zone():
    paris = ContactFactory(time_zone="Europe/Paris", custom_fields={"renewal": "2027-03-10"})
    tokyo = ContactFactory(time_zone="Asia/Tokyo", custom_fields={"renewal": "2027-03-10"})
    passed = ContactFactory(custom_fields={"renewal": "2020-01-01"})
    dateless = ContactFactory()
    trip = journey(steps=wait_then_tag({"until_field": "renewal", "offset_days": -7, "hour": 9}))
    enrol(trip, paris, tokyo, passed, dateless)
    journeys_run_due()
    assert place(paris) == ("tag", EnrolmentStatus.WAITING, datetime(2027, 3, 3, 8, tzinfo=UTC))
    assert place(tokyo) == ("tag", EnrolmentStatus.WAITING, datetime(2027, 3, 3, 0, tzinfo=UTC))
    # A date already past or missing: the wait is over, they go on at once.
    assert place(passed)[1] == place(dateless)[1] == EnrolmentStatus.DONE
    assert outcomes(dateless)[0] == ("wait", "no date")


def test_a_wait_until_a_built_in_date_field_uses_the_contacts_day():
    ann = ContactFactory(time_zone="America/New_York")
    Contact.objects.filter(pk=ann.pk).update(created_at=datetime(2027, 2, 1, 3, tzinfo=UTC))  # Jan 31 in NY
    trip = journey(steps=wait_then_tag({"until_field": "created_at", "offset_days": 365, "hour": 8}))
    enrol(trip, ann)
    journeys_run_due()
    assert place(ann)[2] == datetime(2028, 1, 31, 13, tzinfo=UTC)


@pytest.mark.parametrize(("now", "paris", "new_york"), [
    # Friday before Europe moves to summer time (Sunday 28 March 2027); New York moved on 14 March.
    (datetime(2027, 3, 26, 12, tzinfo=UTC), datetime(2027, 3, 29, 7, tzinfo=UTC),
     datetime(2027, 3, 29, 13, tzinfo=UTC)),
    # Friday before Europe goes back to winter time (31 October 2027); New York still on summer time.
    (datetime(2027, 10, 29, 12, tzinfo=UTC), datetime(2027, 11, 1, 8, tzinfo=UTC),
     datetime(2027, 11, 1, 13, tzinfo=UTC)),
    # Monday 09:00 already passed in Paris (08:30 UTC is 09:30 there) but not in New York: a week on.
    (datetime(2027, 11, 8, 8, 30, tzinfo=UTC), datetime(2027, 11, 15, 8, tzinfo=UTC),
     datetime(2027, 11, 8, 14, tzinfo=UTC)),
])
def test_a_wait_until_monday_nine_is_nine_by_each_contacts_clock_across_dst_changes(now, paris, new_york, settings):
    settings.TIME_ZONE = "UTC"
    in_paris = [ContactFactory(time_zone="Europe/Paris") for _ in range(3)]
    in_new_york = ContactFactory(time_zone="America/New_York")
    team = ContactFactory(time_zone="")
    trip = journey(steps=wait_then_tag({"weekday": "monday", "hour": 9}))
    enrol(trip, *in_paris, in_new_york, team)
    with CaptureQueriesContext(connection) as queries:
        journeys_run_batch(now=now)
    assert {place(contact)[2] for contact in in_paris} == {paris}
    assert place(in_new_york)[2] == new_york
    assert place(team)[2] > now and place(team)[2].hour == 9
    moves = [q for q in queries.captured_queries
             if q["sql"].startswith(('UPDATE "automation_journeyenrolment"', "WITH moved AS"))]
    # One per time zone, not one per contact; on PostgreSQL one for the whole batch.
    assert len(moves) == (1 if connection.vendor == "postgresql" else 3)


def event_wait(**config) -> list[dict]:
    return [{"key": "wait", "kind": "wait_event", "config": {"event": "clicked", "hours": 2, **config},
             "next": "tag", "other": "end"}, TAG, END]


def test_an_awaited_event_moves_the_contact_on_and_the_timeout_takes_the_other_way():
    clicker, silent, early = ContactFactory(), ContactFactory(), ContactFactory()
    contact_record_event(contact=early, kind=EventKind.CLICKED, occurred_at=timezone.now() - timedelta(days=1))
    trip = journey(steps=event_wait())
    enrol(trip, clicker, silent, early)
    journeys_run_due()
    assert {place(c)[1] for c in (clicker, silent, early)} == {EnrolmentStatus.AWAITING}
    arrived = place(silent)[2] - timedelta(hours=2)
    assert abs(arrived - timezone.now()) < timedelta(minutes=1)

    contact_record_event(contact=clicker, kind=EventKind.CLICKED)
    contact_record_event(contact=silent, kind=EventKind.OPENED)
    assert journeys_event_waits_release() == 1
    assert journeys_event_waits_release() == 0
    journeys_run_due()
    assert outcomes(clicker) == [("wait", "awaiting"), ("wait", "event"), ("tag", "next"), ("end", "exit")]
    assert place(silent)[1] == EnrolmentStatus.AWAITING  # an open is not the click it waits for

    journeys_run_due()
    assert place(silent)[1] == EnrolmentStatus.AWAITING  # not yet timed out
    later = timezone.now() + timedelta(hours=2, seconds=1)
    while journeys_run_batch(now=later):
        pass
    # A click from before they arrived does not count either.
    for contact in (silent, early):
        assert outcomes(contact) == [("wait", "awaiting"), ("wait", "timed out"), ("end", "exit")]
    assert not contact.tags.exists()


def test_an_event_on_this_journeys_email_only_counts_when_asked(smtp_server):
    smtp_account(smtp_server)
    ann, bob = ContactFactory(), ContactFactory()
    trip = journey(steps=[{"key": "mail", "kind": "send_email", "config": {"template_id": EmailTemplateFactory().pk},
                           "next": "wait"}, *event_wait(journey_email=True)])
    enrol(trip, ann, bob)
    journeys_run_due()
    ours = JourneyStep.objects.get(journey=trip, key="mail").email_campaign.campaign_id
    contact_record_event(contact=ann, kind=EventKind.CLICKED, campaign_id=ours + 1000)
    contact_record_event(contact=bob, kind=EventKind.CLICKED, campaign_id=ours)
    assert journeys_event_waits_release() == 1
    assert place(ann)[1] == EnrolmentStatus.AWAITING
    assert place(bob)[0] == "tag"


def test_a_paused_journey_keeps_its_contacts_awaiting():
    ann = ContactFactory()
    trip = journey(steps=event_wait())
    enrol(trip, ann)
    journeys_run_due()
    journey_pause(journey=trip)
    contact_record_event(contact=ann, kind=EventKind.CLICKED)
    assert journeys_event_waits_release() == 0
