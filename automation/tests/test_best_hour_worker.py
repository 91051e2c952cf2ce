"""A journey's email step delivering at each contact's best hour, with a real django-q2 worker and a real
aiosmtpd server: the runner queues every delivery timed, what is due goes out once, what is not yet due
waits while the contact goes on, and killing the sending worker duplicates nothing."""

import time
from datetime import timedelta

import pytest
from django.utils import timezone

from aicmo_site.testing.worker import wait_for
from automation.choices import EnrolmentStatus
from automation.models import JourneyEnrolment
from automation.services import journey_enrol, journeys_run_due
from automation.tests.factories import journey
from automation.tests.test_worker import tick
from crm.models import Contact
from crm.tests.factories import ContactFactory
from publishing.email.choices import DeliveryStatus
from publishing.email.models import EmailDelivery
from publishing.email.services import campaign_wake
from publishing.email.tasks import email_wake_sends
from publishing.tests.email.factories import EmailTemplateFactory, smtp_account
from publishing.tests.email.test_best_hour_worker import crash_audience, habit, sent_to, slots_compressed
from publishing.tests.email.test_worker import WORKER_ENV, assert_exactly_once, copies, kill_and_restart

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def minute_wake(done):
    """A journey's send stops its turn when nothing is claimable yet, and leaves a killed worker's claims to
    the minute's wake-up once their lease has expired: the test runs that wake-up more often. Waking only
    right after a restart found the last claims still leased whenever the new worker started within the
    lease (2 s), and nothing woke the send again (on an idle machine, one run in two)."""
    email_wake_sends()
    time.sleep(0.5)
    return done()


def best_hour_journey():
    trip = journey(steps=[
        {"key": "mail", "kind": "send_email", "config": {"template_id": EmailTemplateFactory().pk,
                                                          "deliver": "best_hour"}, "next": "end"},
        {"key": "end", "kind": "exit"}])
    return trip, trip.steps.get(key="mail").email_campaign


def enrol(trip, contacts) -> None:
    journey_enrol(journey=trip, contacts=Contact.objects.filter(pk__in=[c.pk for c in contacts]), source="test")


def test_journey_email_due_now_goes_once_and_a_later_one_waits_for_its_hour(qcluster, smtp_server):
    smtp_account(smtp_server)
    early = [ContactFactory() for _ in range(4)]
    late = [ContactFactory() for _ in range(3)]
    habit(early, hours_from_now=0)
    habit(late, hours_from_now=5)
    trip, send = best_hour_journey()
    enrol(trip, early + late)
    qcluster(**WORKER_ENV)

    wait_for(lambda: tick(lambda: len(sent_to(send)) == 4), timeout=60, message="the journey emails due now")
    # Everyone went on through the journey at once; the late ones' emails wait for their hour.
    assert not JourneyEnrolment.objects.filter(journey=trip).exclude(status=EnrolmentStatus.DONE).exists()
    campaign_wake(send.pk)  # as the periodic wake-up does: nothing more is due
    tick(lambda: None)
    assert sent_to(send) == {contact.email for contact in early}
    waiting = EmailDelivery.objects.filter(campaign_id=send.campaign_id, status=DeliveryStatus.QUEUED)
    assert {delivery.next_attempt_at.hour for delivery in waiting} == {(timezone.now() + timedelta(hours=5)).hour}
    assert waiting.count() == 3

    waiting.update(next_attempt_at=timezone.now() - timedelta(minutes=1))  # their hour has come
    campaign_wake(send.pk)
    wait_for(lambda: len(sent_to(send)) == 7, timeout=60, message="the emails whose hour came")
    journeys_run_due()  # a runner pass more finds nothing left to queue
    assert copies(smtp_server) == {contact.email: 1 for contact in early + late}


def test_killing_the_worker_during_a_journeys_best_hour_emails_never_duplicates_or_skips(qcluster, smtp_server):
    hours = 6
    contacts, kills = crash_audience(smtp_server, audience=200, kills=3, hours=hours)
    audience = len(contacts)
    trip, send = best_hour_journey()
    enrol(trip, contacts)
    journeys_run_due()
    deliveries = EmailDelivery.objects.filter(campaign_id=send.campaign_id)
    assert deliveries.count() == audience
    assert slots_compressed(deliveries) == hours
    cluster = qcluster(**WORKER_ENV)
    campaign_wake(send.pk, workers=1)

    cluster = kill_and_restart(qcluster, cluster, send, smtp_server, kills=kills, audience=audience,
                               wake=email_wake_sends)
    wait_for(lambda: minute_wake(lambda: not deliveries.filter(
        status__in=(DeliveryStatus.QUEUED, DeliveryStatus.SENDING)).exists()),
             timeout=60 + audience / 5, message="every journey email to be sent after kills")
    cluster.kill()
    assert_exactly_once(send, smtp_server, kills=kills, audience=audience)
