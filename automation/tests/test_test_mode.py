"""The builder's test mode and the per-step figures: a test run goes through the runner with waits
shortened, its email through a send of its own, and counts nowhere."""

from datetime import timedelta
from unittest import mock

import pytest
from django.utils import timezone

from aicmo_site.errors import ConflictError
from automation.choices import TEST_SENT_NOW, EnrolmentStatus
from automation.models import JourneyEnrolment, JourneyStepRun
from automation.selectors import journey_stats, journey_test_runs
from automation.services import journey_enrol, journey_test_follow, journey_test_start, journeys_run_due
from automation.services.runner import TEST_WAIT
from automation.tests.factories import journey
from crm.models import Contact
from crm.tests.factories import ContactFactory
from publishing.email.models import EmailDelivery
from publishing.tests.email.factories import EmailTemplateFactory, smtp_account

pytestmark = pytest.mark.django_db

WAIT_A_DAY = [
    {"key": "tag", "kind": "add_tag", "config": {"tag": "welcomed"}, "next": "pause"},
    {"key": "pause", "kind": "wait", "config": {"days": 1}, "next": "end"},
    {"key": "end", "kind": "exit"},
]


def test_a_test_run_waits_seconds_not_days_and_counts_nowhere():
    trip = journey(steps=WAIT_A_DAY, reentry="once_ever")
    ann = ContactFactory()
    started = timezone.now()
    test = journey_test_start(journey=trip, contact=ann)
    journeys_run_due()
    test.refresh_from_db()
    assert test.is_test and test.status == EnrolmentStatus.WAITING
    assert test.due_at - started <= timedelta(seconds=TEST_WAIT + 1)
    stats = journey_stats(trip)
    assert stats["on_the_way"] == 0 and [step["reached"] for step in stats["steps"]] == [0, 0, 0]


def test_a_test_run_never_keeps_the_contact_from_entering_for_real():
    trip = journey(steps=WAIT_A_DAY, reentry="once_ever")
    ann = ContactFactory()
    journey_test_start(journey=trip, contact=ann)
    assert journey_enrol(journey=trip, contacts=Contact.objects.filter(pk=ann.pk), source="api") == 1
    assert JourneyEnrolment.objects.filter(journey=trip, contact=ann).count() == 2


def test_starting_again_takes_the_contact_off_the_earlier_test_run():
    trip = journey(steps=WAIT_A_DAY)
    ann = ContactFactory()
    first = journey_test_start(journey=trip, contact=ann)
    journey_test_start(journey=trip, contact=ann)
    first.refresh_from_db()
    assert (first.status, first.exit_reason) == (EnrolmentStatus.EXITED, "test run restarted")


def test_only_an_active_journey_is_tested():
    with pytest.raises(ConflictError):
        journey_test_start(journey=journey(steps=WAIT_A_DAY, active=False), contact=ContactFactory())


def test_follow_runs_the_test_contact_through_to_the_end():
    trip = journey(steps=WAIT_A_DAY)
    ann = ContactFactory()
    test = journey_test_start(journey=trip, contact=ann)
    assert journey_test_follow(enrolment_id=test.pk, follow_for=30) == EnrolmentStatus.DONE
    assert [run.step.key for run in journey_test_runs(trip)[0].runs.all()] == ["tag", "pause", "end"]


def test_a_test_email_goes_to_the_contact_by_a_send_of_its_own(smtp_server):
    smtp_account(smtp_server)
    trip = journey(steps=[
        {"key": "welcome", "kind": "send_email", "config": {"template_id": EmailTemplateFactory().pk},
         "next": "end"}, {"key": "end", "kind": "exit"}])
    ann = ContactFactory()
    journey_test_start(journey=trip, contact=ann)
    journeys_run_due()
    journey_enrol(journey=trip, contacts=Contact.objects.filter(pk=ann.pk), source="api")
    journeys_run_due()
    deliveries = EmailDelivery.objects.filter(contact=ann)
    assert deliveries.count() == 2 and deliveries.values("campaign_id").distinct().count() == 2
    assert deliveries.filter(campaign__name__startswith="Test run").count() == 1
    assert set(JourneyStepRun.objects.filter(step__key="welcome").values_list("outcome", flat=True)) == {
        "queued", "queued (test)"}


def test_figures_give_conversion_branch_shares_median_time_and_goal(django_assert_num_queries):
    trip = journey(goal={"tag": "customer"}, steps=[
        {"key": "pause", "kind": "wait", "config": {"hours": 1}, "next": "vip"},
        {"key": "vip", "kind": "condition", "config": {"tag": "vip"}, "next": "end", "other": "end"},
        {"key": "end", "kind": "exit"}])
    contacts = ContactFactory.create_batch(4)
    contacts[0].tags.create(name="vip")
    start = timezone.now()
    journey_enrol(journey=trip, contacts=Contact.objects.filter(pk__in=[c.pk for c in contacts]), source="api")
    journeys_run_due()
    JourneyEnrolment.objects.filter(contact=contacts[3]).update(status=EnrolmentStatus.DONE,
                                                               exit_reason="goal reached", due_at=None)
    JourneyEnrolment.objects.filter(contact=contacts[2]).update(due_at=start + timedelta(days=2))
    with mock.patch("django.utils.timezone.now", return_value=start + timedelta(hours=1, minutes=30)):
        journeys_run_due()
    with django_assert_num_queries(6):
        stats = journey_stats(trip)
    pause, vip, end = stats["steps"]
    assert (pause["reached"], pause["went_through"], pause["conversion"]) == (4, 4, 100.0)
    assert timedelta(hours=1, minutes=29) < pause["median_time"] <= timedelta(hours=1, minutes=30)
    # Two went on from the condition; one still waits before it, one reached the goal there.
    assert (vip["reached"], vip["went_through"], vip["on_step"], vip["conversion"]) == (4, 2, 1, 50.0)
    assert vip["branch_shares"] == {"yes": 50.0, "no": 50.0}
    assert end["conversion"] is None and end["went_through"] == 2
    assert (stats["goal_reached"], stats["finished"], stats["on_the_way"]) == (1, 3, 1)


def test_a_best_hour_email_goes_at_once_in_a_test_run_and_the_log_says_so(smtp_server, client, make_user):
    smtp_account(smtp_server)
    trip = journey(steps=[
        {"key": "welcome", "kind": "send_email", "next": "end",
         "config": {"template_id": EmailTemplateFactory().pk, "deliver": "best_hour"}},
        {"key": "end", "kind": "exit"}])
    ann = ContactFactory()
    journey_test_start(journey=trip, contact=ann)
    journeys_run_due()
    test_delivery = EmailDelivery.objects.get(contact=ann, campaign__name__startswith="Test run")
    assert test_delivery.next_attempt_at is None  # not held for an hour: the sender takes it now
    assert JourneyStepRun.objects.get(step__key="welcome").outcome == TEST_SENT_NOW
    client.force_login(make_user("marketer", role="Marketer"))
    log = client.get(f"/journeys/{trip.pk}/test-runs/").content.decode()
    assert "Sent at once for the test; real contacts get this email at their best hour" in log
