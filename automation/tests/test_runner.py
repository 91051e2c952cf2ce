"""Each step kind applied by the runner, and the runner's exactly-once rules."""

from datetime import timedelta

import pytest
from django.db import IntegrityError
from django.utils import timezone

from automation.choices import EnrolmentStatus
from automation.models import JourneyEnrolment, JourneyStepRun
from automation.services import journey_enrol, journey_pause, journeys_run_batch, journeys_run_due
from automation.tests.factories import journey
from crm.choices import ConsentStatus, EventKind, LifecycleStatus
from crm.models import Contact, LifecycleTransition
from crm.tests.factories import (
    ContactFactory,
    EngagementEventFactory,
    SegmentFactory,
    SuppressionFactory,
    TagFactory,
)
from publishing.email.choices import DeliveryStatus
from publishing.email.models import EmailDelivery
from publishing.tests.email.factories import EmailTemplateFactory, smtp_account

pytestmark = pytest.mark.django_db

END = {"key": "end", "kind": "exit"}


def run(*contacts, steps, **fields):
    trip = journey(steps=steps, **fields)
    journey_enrol(journey=trip, contacts=Contact.objects.filter(pk__in=[c.pk for c in contacts]), source="test")
    journeys_run_due()
    return trip


def outcomes(contact) -> list[tuple[str, str]]:
    return list(JourneyStepRun.objects.filter(enrolment__contact=contact).order_by("visit")
                .values_list("step__key", "outcome"))


def test_tags_are_added_and_removed_and_the_journey_finishes():
    ann = ContactFactory()
    ann.tags.add(TagFactory(name="lead"))
    run(ann, steps=[{"key": "add", "kind": "add_tag", "config": {"tag": "welcomed"}, "next": "drop"},
                    {"key": "drop", "kind": "remove_tag", "config": {"tag": "lead"}, "next": "end"}, END])
    assert list(ann.tags.values_list("name", flat=True)) == ["welcomed"]
    assert outcomes(ann) == [("add", "next"), ("drop", "next"), ("end", "exit")]
    enrolment = JourneyEnrolment.objects.get(contact=ann)
    assert (enrolment.status, enrolment.visit, enrolment.due_at) == (EnrolmentStatus.DONE, 3, None)


def test_lifecycle_moves_through_crm_with_its_audit_and_a_field_is_set():
    ann = ContactFactory(custom_fields={"plan": "free"})
    run(ann, steps=[{"key": "stage", "kind": "set_lifecycle", "config": {"stage": "engaged"}, "next": "field"},
                    {"key": "field", "kind": "set_field", "config": {"field": "source_journey", "value": "w"},
                     "next": "end"}, END])
    ann.refresh_from_db()
    assert ann.lifecycle_status == LifecycleStatus.ENGAGED
    assert ann.custom_fields == {"plan": "free", "source_journey": "w"}
    assert LifecycleTransition.objects.filter(contact=ann, to_status="engaged").count() == 1


def test_a_wait_holds_the_contact_until_due():
    ann = ContactFactory()
    trip = run(ann, steps=[{"key": "wait", "kind": "wait", "config": {"hours": 2}, "next": "tag"},
                           {"key": "tag", "kind": "add_tag", "config": {"tag": "later"}, "next": "end"}, END])
    enrolment = JourneyEnrolment.objects.get(journey=trip, contact=ann)
    assert enrolment.status == EnrolmentStatus.WAITING and enrolment.step.key == "tag"
    assert enrolment.due_at > timezone.now() + timedelta(minutes=119)
    assert not ann.tags.exists()
    assert journeys_run_batch(now=timezone.now() + timedelta(hours=2, seconds=1)) == 1
    assert list(ann.tags.values_list("name", flat=True)) == ["later"]


def test_conditions_send_each_contact_down_its_branch():
    vip, other = ContactFactory(), ContactFactory()
    vip.tags.add(TagFactory(name="vip"))
    steps = [{"key": "ask", "kind": "condition", "config": {"tag": "vip"}, "next": "yes", "other": "no"},
             {"key": "yes", "kind": "add_tag", "config": {"tag": "went-yes"}, "next": "end"},
             {"key": "no", "kind": "add_tag", "config": {"tag": "went-no"}, "next": "end"}, END]
    run(vip, other, steps=steps)
    assert outcomes(vip)[:2] == [("ask", "yes"), ("yes", "next")]
    assert outcomes(other)[:2] == [("ask", "no"), ("no", "next")]


@pytest.mark.parametrize(("config", "fields", "holds"), [
    ({"lifecycle": "engaged"}, {"lifecycle_status": "engaged"}, True),
    ({"lifecycle": "engaged"}, {}, False),
    ({"field": "plan", "equals": "pro"}, {"custom_fields": {"plan": "pro"}}, True),
    ({"field": "plan", "equals": "pro"}, {"custom_fields": {"plan": "free"}}, False),
])
def test_conditions_on_lifecycle_and_fields(config, fields, holds):
    ann = ContactFactory(**fields)
    run(ann, steps=[{"key": "ask", "kind": "condition", "config": config, "next": "end", "other": "end"}, END])
    assert outcomes(ann)[0] == ("ask", "yes" if holds else "no")


def test_a_condition_on_a_segment():
    inside, outside = ContactFactory(city="Lyon"), ContactFactory(city="Oslo")
    segment = SegmentFactory(rules={"op": "and", "rules": [{"field": "city", "operator": "eq", "value": "Lyon"}]})
    run(inside, outside, steps=[{"key": "ask", "kind": "condition", "config": {"segment_id": segment.pk},
                                 "next": "end", "other": "end"}, END])
    assert outcomes(inside)[0] == ("ask", "yes") and outcomes(outside)[0] == ("ask", "no")


def test_a_random_split_shares_contacts_roughly_and_stably():
    contacts = [ContactFactory() for _ in range(200)]
    run(*contacts, steps=[{"key": "split", "kind": "random_split", "config": {"percent": 30}, "next": "end",
                           "other": "end"}, END])
    first = JourneyStepRun.objects.filter(step__key="split", outcome="first").count()
    assert 35 <= first <= 85
    assert JourneyStepRun.objects.filter(step__key="split").count() == 200


def test_an_email_step_queues_one_delivery_for_those_who_may_be_emailed(smtp_server):
    smtp_account(smtp_server)
    ann, gone, blocked = ContactFactory(), ContactFactory(consent_status=ConsentStatus.UNSUBSCRIBED), ContactFactory()
    SuppressionFactory(value=blocked.email, kind="email")
    trip = run(ann, gone, blocked, steps=[
        {"key": "mail", "kind": "send_email", "config": {"template_id": EmailTemplateFactory().pk}, "next": "end"},
        END])
    step = trip.steps.get(key="mail")
    assert step.email_campaign.kept_open and step.email_campaign.status == "sending"
    deliveries = EmailDelivery.objects.filter(campaign_id=step.email_campaign.campaign_id)
    assert list(deliveries.values_list("contact_id", "status")) == [(ann.pk, DeliveryStatus.QUEUED)]
    assert outcomes(ann)[0] == ("mail", "queued")
    assert outcomes(gone)[0] == outcomes(blocked)[0] == ("mail", "not emailable")


def test_an_email_step_at_the_best_hour_times_each_delivery_and_the_contact_goes_on(smtp_server):
    smtp_account(smtp_server)
    keen, new = ContactFactory(), ContactFactory()
    in_five_hours = timezone.now() + timedelta(hours=5)
    for week in (1, 2, 3):
        EngagementEventFactory(contact=keen, kind=EventKind.OPENED, occurred_at=in_five_hours - timedelta(weeks=week))
    trip = run(keen, new, steps=[
        {"key": "mail", "kind": "send_email", "config": {"template_id": EmailTemplateFactory().pk,
                                                          "deliver": "best_hour"}, "next": "end"}, END])
    deliveries = EmailDelivery.objects.filter(campaign_id=trip.steps.get(key="mail").email_campaign.campaign_id)
    keen_due = deliveries.get(contact=keen).next_attempt_at
    assert keen_due == in_five_hours.replace(minute=0, second=0, microsecond=0)
    # No history of theirs, nor anyone else's beyond keen's three opens: at once.
    assert deliveries.get(contact=new).next_attempt_at <= timezone.now()
    assert outcomes(keen) == outcomes(new) == [("mail", "queued"), ("end", "exit")]


def test_a_journey_email_at_the_best_hour_leaves_the_sends_other_deliveries_alone(smtp_server):
    from automation.choices import ReEntry

    smtp_account(smtp_server)
    ann = ContactFactory()
    trip = journey(reentry=ReEntry.EVERY_TIME, steps=[
        {"key": "mail", "kind": "send_email", "config": {"template_id": EmailTemplateFactory().pk,
                                                          "deliver": "best_hour"}, "next": "end"}, END])
    journey_enrol(journey=trip, contacts=Contact.objects.filter(pk=ann.pk), source="test")
    journeys_run_due()
    deliveries = EmailDelivery.objects.filter(campaign_id=trip.steps.get(key="mail").email_campaign.campaign_id)
    later = timezone.now() + timedelta(hours=3)
    deliveries.update(next_attempt_at=later)  # the first entry's email, waiting for its hour
    journey_enrol(journey=trip, contacts=Contact.objects.filter(pk=ann.pk), source="test")
    journeys_run_due()
    assert deliveries.count() == 2
    assert deliveries.order_by("occurrence").first().next_attempt_at == later


def test_a_journey_with_email_is_not_activated_without_a_sending_provider():
    from aicmo_site.errors import DomainError

    with pytest.raises(DomainError, match="Sending provider"):
        journey(steps=[{"key": "mail", "kind": "send_email", "config": {"template_id": EmailTemplateFactory().pk},
                        "next": "end"}, END])


def test_a_paused_journey_is_left_alone_and_steps_run_once():
    ann = ContactFactory()
    trip = journey()
    journey_enrol(journey=trip, contacts=Contact.objects.filter(pk=ann.pk), source="test")
    journey_pause(journey=trip)
    assert journeys_run_batch() == 0
    enrolment = JourneyEnrolment.objects.get(contact=ann)
    with pytest.raises(IntegrityError):
        JourneyStepRun.objects.bulk_create([JourneyStepRun(enrolment=enrolment, step=enrolment.step, visit=0,
                                                           outcome="next", ran_at=timezone.now())] * 2)


def test_archiving_exits_everyone_and_lets_its_sends_complete(smtp_server):
    from automation.services import journey_archive

    smtp_account(smtp_server)
    ann = ContactFactory()
    trip = journey(steps=[{"key": "wait", "kind": "wait", "config": {"days": 1}, "next": "mail"},
                          {"key": "mail", "kind": "send_email", "config": {"template_id": EmailTemplateFactory().pk},
                           "next": "end"}, END])
    journey_enrol(journey=trip, contacts=Contact.objects.filter(pk=ann.pk), source="test")
    journey_archive(journey=trip)
    assert JourneyEnrolment.objects.get(contact=ann).status == EnrolmentStatus.EXITED
    send = trip.steps.get(key="mail").email_campaign
    send.refresh_from_db()
    assert (send.kept_open, send.status) == (False, "completed")


def test_a_contact_who_reenters_an_every_time_journey_is_sent_its_email_once_per_entry(smtp_server):
    from automation.choices import ReEntry
    from automation.services.runner import _send_email

    smtp_account(smtp_server)
    ann = ContactFactory()
    trip = journey(reentry=ReEntry.EVERY_TIME, steps=[
        {"key": "mail", "kind": "send_email", "config": {"template_id": EmailTemplateFactory().pk}, "next": "end"},
        END])
    for _ in range(2):
        journey_enrol(journey=trip, contacts=Contact.objects.filter(pk=ann.pk), source="test")
        journeys_run_due()
    step = trip.steps.get(key="mail")
    deliveries = EmailDelivery.objects.filter(campaign_id=step.email_campaign.campaign_id, contact=ann)
    entries = list(JourneyEnrolment.objects.filter(contact=ann).order_by("pk").values_list("pk", flat=True))
    assert list(deliveries.order_by("occurrence").values_list("occurrence", flat=True)) == entries
    # The same entry's step applied again (a replayed batch) queues nothing more.
    _send_email(step, [(entries[0], ann.pk, step.pk, 0)])
    assert deliveries.count() == 2


def test_a_click_in_an_earlier_entry_does_not_count_for_the_next_one(smtp_server):
    from automation.choices import ReEntry

    smtp_account(smtp_server)
    ann = ContactFactory()
    trip = journey(reentry=ReEntry.EVERY_TIME, steps=[
        {"key": "mail", "kind": "send_email", "config": {"template_id": EmailTemplateFactory().pk}, "next": "read"},
        {"key": "read", "kind": "wait", "config": {"hours": 1}, "next": "ask"},
        {"key": "ask", "kind": "condition", "config": {"clicked_last_email": True}, "next": "end", "other": "end"},
        END])
    hour = timedelta(hours=1, seconds=1)
    journey_enrol(journey=trip, contacts=Contact.objects.filter(pk=ann.pk), source="test")
    journeys_run_due()
    EmailDelivery.objects.filter(contact=ann).update(first_clicked_at=timezone.now())
    while journeys_run_batch(now=timezone.now() + hour):
        pass
    journey_enrol(journey=trip, contacts=Contact.objects.filter(pk=ann.pk), source="test")
    journeys_run_due()
    while journeys_run_batch(now=timezone.now() + hour):
        pass
    asked = JourneyStepRun.objects.filter(step__key="ask").order_by("enrolment_id").values_list("outcome", flat=True)
    assert list(asked) == ["yes", "no"]


def test_a_run_out_of_time_says_so_and_queues_its_continuation(monkeypatch):
    from django_q.models import OrmQ

    from automation import tasks

    contacts = [ContactFactory() for _ in range(3)]
    trip = journey(steps=[{"key": "tag", "kind": "add_tag", "config": {"tag": "welcomed"}, "next": "end"}, END])
    journey_enrol(journey=trip, contacts=Contact.objects.filter(pk__in=[c.pk for c in contacts]), source="test")
    report = journeys_run_due(size=2, seconds=0)
    # Two contacts taken, each through the tag and on to the exit in the same batch.
    assert (report.steps, report.batches, report.more) == (4, 1, True)

    monkeypatch.setattr(tasks, "RUN_SECONDS", 0)
    assert tasks.journeys_run_steps() == {"steps": 2, "batches": 1, "continued": True}
    assert [queued.task["func"] for queued in OrmQ.objects.all()] == ["automation.tasks.journeys_run_steps"]
    OrmQ.objects.all().delete()

    assert journeys_run_due().more is False
    assert tasks.journeys_run_steps() == {"steps": 0, "batches": 0, "continued": False}
    assert not OrmQ.objects.exists()
    assert JourneyStepRun.objects.filter(step__key="end").count() == 3


def test_the_queues_run_leaves_due_steps_to_a_live_runner_loop_and_takes_them_once_it_is_silent(settings):
    from automation import tasks
    from automation.models import RunnerLoop
    from automation.services.loops import runner_loop_seen

    settings.JOURNEYS_LOOP_ALIVE_SECONDS = 30
    ann = ContactFactory()
    trip = journey(steps=[{"key": "tag", "kind": "add_tag", "config": {"tag": "welcomed"}, "next": "end"}, END])
    journey_enrol(journey=trip, contacts=Contact.objects.filter(pk=ann.pk), source="test")
    runner_loop_seen(name="runner:1", now=timezone.now() - timedelta(seconds=25))

    assert tasks.journeys_run_steps() == {"steps": 0, "batches": 0, "continued": False, "left_to_runner_loop": True}
    assert not JourneyStepRun.objects.exists()

    RunnerLoop.objects.update(seen_at=timezone.now() - timedelta(seconds=31))
    assert tasks.journeys_run_steps() == {"steps": 2, "batches": 1, "continued": False}
    assert outcomes(ann) == [("tag", "next"), ("end", "exit")]


def test_the_minutes_run_still_enrols_from_the_triggers_beside_a_live_runner_loop():
    from automation import tasks
    from automation.services.loops import runner_loop_seen

    segment = SegmentFactory(rules={"op": "and", "rules": [{"field": "city", "operator": "eq", "value": "Lyon"}]})
    trip = journey(entry_triggers=[{"kind": "segment_entered", "segment_id": segment.pk}])
    ann = ContactFactory(city="Lyon")
    runner_loop_seen(name="runner:1")

    assert tasks.journeys_run() == {"enrolled": 1, "exited": 0, "released": 0, "steps": 0, "batches": 0,
                                    "continued": False, "left_to_runner_loop": True}
    assert JourneyEnrolment.objects.get(journey=trip).contact_id == ann.pk


def test_a_loop_seen_clears_the_rows_of_loops_long_silent(settings):
    from automation.models import RunnerLoop
    from automation.services.loops import runner_loop_seen

    settings.JOURNEYS_LOOP_ALIVE_SECONDS = 30
    now = timezone.now()
    runner_loop_seen(name="killed:1", now=now - timedelta(seconds=31))
    runner_loop_seen(name="alive:2", now=now - timedelta(seconds=5))
    runner_loop_seen(name="alive:3", now=now)
    assert sorted(RunnerLoop.objects.values_list("name", flat=True)) == ["alive:2", "alive:3"]


def test_a_run_leaving_waits_behind_wakes_up_once_at_the_first_due_time():
    from django_q.models import Schedule

    from automation import tasks

    ann, bob = ContactFactory(), ContactFactory()
    soon = journey(name="Soon", steps=[{"key": "pause", "kind": "wait", "config": {"minutes": 10}, "next": "end"},
                                       END])
    later = journey(name="Later", steps=[{"key": "pause", "kind": "wait", "config": {"minutes": 20}, "next": "end"},
                                         END])
    journey_enrol(journey=later, contacts=Contact.objects.filter(pk=bob.pk), source="test")
    assert tasks.journeys_run_steps()["continued"] is False
    first = JourneyEnrolment.objects.get(contact=bob).due_at
    assert list(Schedule.objects.filter(name=tasks.WAKE).values_list("func", "schedule_type", "repeats",
                                                                      "next_run")) == [
        ("automation.tasks.journeys_run_steps", Schedule.ONCE, -1, first)]

    journey_enrol(journey=soon, contacts=Contact.objects.filter(pk=ann.pk), source="test")
    tasks.journeys_run_steps()
    sooner = JourneyEnrolment.objects.get(contact=ann).due_at
    assert sooner < first
    assert list(Schedule.objects.filter(name=tasks.WAKE).values_list("next_run", flat=True)) == [sooner]

    Schedule.objects.filter(name=tasks.WAKE).update(next_run=sooner - timedelta(minutes=1))
    tasks.journeys_run_steps()
    assert list(Schedule.objects.filter(name=tasks.WAKE).values_list("next_run", flat=True)) == [
        sooner - timedelta(minutes=1)]


def test_steps_due_at_once_run_in_one_batch_up_to_a_wait(smtp_server):
    smtp_account(smtp_server)
    ann = ContactFactory()
    trip = journey(steps=[
        {"key": "tag", "kind": "add_tag", "config": {"tag": "welcomed"}, "next": "ask"},
        {"key": "ask", "kind": "condition", "config": {"tag": "welcomed"}, "next": "pause", "other": "end"},
        {"key": "pause", "kind": "wait", "config": {"seconds": 0}, "next": "field"},
        {"key": "field", "kind": "set_field", "config": {"field": "plan", "value": "gold"}, "next": "mail"},
        {"key": "mail", "kind": "send_email", "config": {"template_id": EmailTemplateFactory().pk}, "next": "later"},
        {"key": "later", "kind": "wait", "config": {"hours": 1}, "next": "end"},
        END])
    journey_enrol(journey=trip, contacts=Contact.objects.filter(pk=ann.pk), source="test")
    assert journeys_run_batch() == 1
    runs = JourneyStepRun.objects.filter(enrolment__contact=ann).order_by("visit")
    assert list(runs.values_list("visit", "step__key", "outcome")) == [
        (0, "tag", "next"), (1, "ask", "yes"), (2, "pause", "waited"), (3, "field", "next"), (4, "mail", "queued"),
        (5, "later", "waited")]
    enrolment = JourneyEnrolment.objects.get(contact=ann)
    assert (enrolment.step.key, enrolment.visit, enrolment.status) == ("end", 6, EnrolmentStatus.WAITING)
    assert EmailDelivery.objects.filter(contact=ann).count() == 1
    ann.refresh_from_db()
    assert ann.custom_fields["plan"] == "gold"
    assert journeys_run_batch(now=timezone.now() + timedelta(hours=1, seconds=1)) == 1
    enrolment.refresh_from_db()
    assert (enrolment.visit, enrolment.status, runs.count()) == (7, EnrolmentStatus.DONE, 7)
