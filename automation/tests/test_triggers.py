"""Entry triggers (segment, events, by hand), the re-entry rules and the exits."""

from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Count
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from automation.choices import EnrolmentStatus, ReEntry
from automation.models import Journey, JourneyEnrolment
from automation.services import (
    journey_enrol,
    journey_exits_apply,
    journeys_date_entries_apply,
    journeys_run_due,
    journeys_triggers_apply,
)
from automation.services.triggers import EVENT_MARGIN
from automation.tests.factories import journey
from crm.models import Contact
from crm.services import contacts_transition
from crm.tests.factories import ContactFactory, EngagementEventFactory, SegmentFactory

pytestmark = pytest.mark.django_db
LYON = {"op": "and", "rules": [{"field": "city", "operator": "eq", "value": "Lyon"}]}
WAITING = [{"key": "pause", "kind": "wait", "config": {"days": 1}, "next": "end"}, {"key": "end", "kind": "exit"}]


def enrolled(trip) -> list[int]:
    return sorted(JourneyEnrolment.objects.filter(journey=trip).values_list("contact_id", flat=True))


def test_joining_a_segment_enrols_but_members_at_activation_do_not():
    before = ContactFactory(city="Lyon")
    segment = SegmentFactory(rules=LYON)
    trip = journey(entry_triggers=[{"kind": "segment_entered", "segment_id": segment.pk}])
    newcomer = ContactFactory(city="Lyon")
    ContactFactory(city="Oslo")
    assert journeys_triggers_apply() == {"enrolled": 1, "exited": 0}
    assert enrolled(trip) == [newcomer.pk]
    assert journeys_triggers_apply()["enrolled"] == 0
    assert before.pk not in enrolled(trip)


def test_include_current_enrols_the_members_already_there():
    ann = ContactFactory(city="Lyon")
    segment = SegmentFactory(rules=LYON)
    trip = journey(entry_triggers=[{"kind": "segment_entered", "segment_id": segment.pk, "include_current": True}])
    journeys_triggers_apply()
    assert enrolled(trip) == [ann.pk]


def test_leaving_the_segment_exits_and_joining_again_follows_the_reentry_rule():
    segment = SegmentFactory(rules=LYON)
    trip = journey(steps=WAITING, reentry=ReEntry.ONCE_AT_A_TIME, exit_triggers=["left_segment"],
                   entry_triggers=[{"kind": "segment_entered", "segment_id": segment.pk}])
    ann = ContactFactory(city="Lyon")
    journeys_triggers_apply()
    journeys_run_due()
    Contact.objects.filter(pk=ann.pk).update(city="Oslo")
    assert journeys_triggers_apply()["exited"] == 1
    assert JourneyEnrolment.objects.get(journey=trip).exit_reason == "left_segment"
    Contact.objects.filter(pk=ann.pk).update(city="Lyon")
    journeys_triggers_apply()
    assert list(JourneyEnrolment.objects.filter(journey=trip).order_by("id").values_list("status", flat=True)) == [
        EnrolmentStatus.EXITED, EnrolmentStatus.ACTIVE]


def test_an_event_enrols_once_it_is_past_the_margin():
    trip = journey(entry_triggers=[{"kind": "event", "event_kind": "clicked"}])
    ann, bob = ContactFactory(), ContactFactory()
    old = EngagementEventFactory(contact=bob, kind="clicked", occurred_at=timezone.now() - timedelta(days=1))
    EngagementEventFactory(contact=ann, kind="clicked", occurred_at=timezone.now())
    EngagementEventFactory(contact=bob, kind="opened", occurred_at=timezone.now())
    later = timezone.now() + EVENT_MARGIN * 2
    assert journeys_triggers_apply(now=later)["enrolled"] == 1
    assert enrolled(trip) == [ann.pk] and old.occurred_at < Journey.objects.get(pk=trip.pk).events_since


@pytest.mark.parametrize("event_kind", ["opened", "clicked", "form_submit", "page_view", "replied", "converted"])
def test_each_engagement_event_kind_can_start_a_journey(event_kind):
    trip = journey(entry_triggers=[{"kind": "event", "event_kind": event_kind}])
    ann, bob = ContactFactory(), ContactFactory()
    EngagementEventFactory(contact=ann, kind=event_kind, occurred_at=timezone.now())
    EngagementEventFactory(contact=bob, kind="note", occurred_at=timezone.now())
    journeys_triggers_apply(now=timezone.now() + EVENT_MARGIN * 2)
    assert enrolled(trip) == [ann.pk]


def test_a_payment_a_lifecycle_change_and_an_event_read_one_window_together():
    trip = journey(entry_triggers=[{"kind": "event", "event_kind": "converted", "paid": True},
                                   {"kind": "lifecycle", "stage": "verified"},
                                   {"kind": "event", "event_kind": "replied"}])
    payer, refunded, customer, replier, lead = (ContactFactory() for _ in range(5))
    EngagementEventFactory(contact=payer, kind="converted", value="49.00", occurred_at=timezone.now())
    EngagementEventFactory(contact=refunded, kind="converted", value=None, occurred_at=timezone.now())
    EngagementEventFactory(contact=replier, kind="replied", occurred_at=timezone.now())
    contacts_transition(contacts=[customer.pk], to="verified", reason="checked")
    contacts_transition(contacts=[lead.pk], to="engaged", reason="opened")
    journeys_triggers_apply(now=timezone.now() + EVENT_MARGIN * 2)
    assert enrolled(trip) == sorted([payer.pk, customer.pk, replier.pk])
    assert dict(JourneyEnrolment.objects.filter(journey=trip).values_list("contact_id", "source")) == {
        payer.pk: "payment", customer.pk: "lifecycle:verified", replier.pk: "event:replied"}


@pytest.mark.parametrize(("trigger", "message"), [
    ({"kind": "event", "event_kind": "opened", "paid": True}, "A payment is a conversion"),
    ({"kind": "lifecycle", "stage": "royalty"}, "Choose a lifecycle stage."),
    ({"kind": "date_field", "field": "", "offset_days": 1}, "Name the date field"),
    ({"kind": "date_field", "field": "renewal", "offset_days": "soon"}, "Name the date field"),
])
def test_an_unusable_entry_trigger_is_refused_with_the_reason(trigger, message):
    with pytest.raises(ValidationError) as raised:
        journey(entry_triggers=[trigger], active=False)
    assert message in raised.value.message_dict["entry_triggers[0]"][0]


def test_a_renewal_date_enrols_days_before_once_per_occurrence():
    trip = journey(entry_triggers=[{"kind": "date_field", "field": "renewal", "offset_days": -7}],
                   reentry=ReEntry.EVERY_TIME)
    due = ContactFactory(custom_fields={"renewal": "2027-03-10"})
    ContactFactory(custom_fields={"renewal": "2027-03-11"})
    ContactFactory()
    assert journeys_date_entries_apply(today=date(2027, 3, 3)) == 1
    assert journeys_date_entries_apply(today=date(2027, 3, 3)) == 0  # a second run the same day
    assert enrolled(trip) == [due.pk]
    assert JourneyEnrolment.objects.get(journey=trip).source == "date:renewal:2027-03-10"


def test_a_birthday_comes_round_every_year():
    trip = journey(entry_triggers=[{"kind": "date_field", "field": "birthday", "yearly": True}],
                   reentry=ReEntry.EVERY_TIME)
    ann = ContactFactory(custom_fields={"birthday": "1990-06-15"})
    ContactFactory(custom_fields={"birthday": "1990-06-16"})
    assert journeys_date_entries_apply(today=date(2027, 6, 15)) == 1
    assert journeys_date_entries_apply(today=date(2027, 6, 15)) == 0
    assert journeys_date_entries_apply(today=date(2028, 6, 15)) == 1
    assert enrolled(trip) == [ann.pk, ann.pk]


@pytest.mark.parametrize(("rule", "live_twice", "after_done"), [
    (ReEntry.ONCE_EVER, 1, 0), (ReEntry.ONCE_AT_A_TIME, 1, 1), (ReEntry.EVERY_TIME, 2, 1)])
def test_reentry_rules(rule, live_twice, after_done):
    ann = ContactFactory()
    trip = journey(steps=WAITING, reentry=rule)
    picked = Contact.objects.filter(pk=ann.pk)
    assert journey_enrol(journey=trip, contacts=picked, source="api") == 1
    assert journey_enrol(journey=trip, contacts=picked, source="api") == live_twice - 1
    JourneyEnrolment.objects.filter(journey=trip).update(status=EnrolmentStatus.DONE)
    assert journey_enrol(journey=trip, contacts=picked, source="api") == after_done


def test_the_database_refuses_a_second_live_enrolment_once_at_a_time():
    ann = ContactFactory()
    trip = journey(steps=WAITING, reentry=ReEntry.ONCE_AT_A_TIME)
    journey_enrol(journey=trip, contacts=Contact.objects.filter(pk=ann.pk), source="api")
    with pytest.raises(IntegrityError), transaction.atomic():
        JourneyEnrolment.objects.create(journey=trip, contact=ann, reentry=ReEntry.ONCE_AT_A_TIME,
                                        step=trip.steps.first())


def test_unsubscribed_and_converted_exit_and_the_goal_finishes():
    gone, bought, tagged, stays = (ContactFactory() for _ in range(4))
    trip = journey(steps=WAITING, exit_triggers=["unsubscribed", "converted"], goal={"tag": "customer"})
    journey_enrol(journey=trip, contacts=Contact.objects.all(), source="api")
    Contact.objects.filter(pk=gone.pk).update(consent_status="unsubscribed")
    Contact.objects.filter(pk=bought.pk).update(lifecycle_status="converted")
    tagged.tags.create(name="customer")
    assert journey_exits_apply(journey=trip) == {"unsubscribed": 1, "converted": 1, "goal": 1}
    reasons = dict(JourneyEnrolment.objects.values_list("contact_id", "exit_reason"))
    assert reasons == {gone.pk: "unsubscribed", bought.pk: "converted", tagged.pk: "goal reached", stays.pk: ""}


@pytest.mark.parametrize(("rule", "rejoined"), [
    (ReEntry.ONCE_EVER, 0), (ReEntry.ONCE_AT_A_TIME, 60), (ReEntry.EVERY_TIME, 150)])
def test_a_whole_segment_joining_leaving_and_joining_again_follows_the_reentry_rule(rule, rejoined):
    """Set level: 150 members join at once; 60 of them finish; all leave; all join again. Only the rule
    decides who enters again (those still on the journey are on it once at a time)."""
    segment = SegmentFactory(rules=LYON)
    trip = journey(steps=WAITING, reentry=rule, entry_triggers=[{"kind": "segment_entered", "segment_id": segment.pk}])
    Contact.objects.bulk_create([Contact(email=f"j{n}@example.org", domain="example.org", city="Lyon")
                                 for n in range(150)])
    ContactFactory(city="Oslo")
    assert journeys_triggers_apply()["enrolled"] == 150
    assert journeys_triggers_apply()["enrolled"] == 0
    finished = JourneyEnrolment.objects.filter(journey=trip).order_by("contact_id")[:60].values_list("pk", flat=True)
    JourneyEnrolment.objects.filter(pk__in=list(finished)).update(status=EnrolmentStatus.DONE, due_at=None)
    Contact.objects.filter(city="Lyon").update(city="Paris")
    assert journeys_triggers_apply()["enrolled"] == 0
    Contact.objects.filter(city="Paris").update(city="Lyon")

    assert journeys_triggers_apply()["enrolled"] == rejoined
    assert journeys_triggers_apply()["enrolled"] == 0
    per_contact = JourneyEnrolment.objects.filter(journey=trip).values("contact_id").annotate(n=Count("id"))
    assert sorted({row["n"] for row in per_contact}) == ([1] if rejoined == 0 else [1, 2] if rejoined < 150 else [2])
    assert sum(row["n"] for row in per_contact) == 150 + rejoined


def test_segment_entries_take_the_same_statements_for_ten_members_as_for_three_hundred():
    """No statement per member: the look's queries do not grow with the segment."""
    def look_at(count: int) -> int:
        segment = SegmentFactory(rules={"op": "and", "rules": [
            {"field": "city", "operator": "eq", "value": f"Town {count}"}]})
        journey(name=f"Join {count}", entry_triggers=[{"kind": "segment_entered", "segment_id": segment.pk}])
        Contact.objects.bulk_create([Contact(email=f"t{count}-{n}@example.org", domain="example.org",
                                             city=f"Town {count}") for n in range(count)])
        with CaptureQueriesContext(connection) as queries:
            assert journeys_triggers_apply()["enrolled"] == count
        Journey.objects.filter(name=f"Join {count}").update(status="paused")
        return len(queries)

    assert look_at(10) == look_at(300)
