"""The action steps through real parts: a django-q2 worker runs a journey through webhook, notify, list and
enrol steps, delivering to a pytest-httpserver receiver and an aiosmtpd server; runners killed with SIGKILL
at random points leave each contact one webhook message and one place in a digest, none twice, none
missing."""

import random
import time
from collections import Counter

import pytest
from django.core.cache import cache
from django_q.tasks import async_task

from aicmo_site.testing.worker import wait_for
from automation.choices import EnrolmentStatus
from automation.models import JourneyEnrolment, JourneyNotification, JourneyStepRun
from automation.services import journey_enrol
from automation.services.notifications import journey_notifications_send
from automation.tests.factories import journey
from automation.tests.test_worker import WORKER_ENV, Runners, enrolments_done, kill_at_random_points
from crm.models import Contact
from crm.tests.factories import ContactFactory, ContactListFactory
from publishing.tests.email.factories import smtp_account
from publishing.tests.factories import UserFactory
from webhooks.models import MessageStatus, WebhookMessage
from webhooks.services import messages_deliver_due, subscription_create
from webhooks.tests.conftest import verified

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def fresh_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def runners(transactional_db):
    running = Runners()
    yield running
    running.close()


def action_steps(*, subscription, user, contact_list=None, target=None):
    steps = [
        {"key": "hook", "kind": "call_webhook", "config": {"subscription_id": subscription.pk}, "next": "tell"},
        {"key": "tell", "kind": "notify", "config": {"user_id": user.pk, "message": "New lead"}, "next": "tag"},
        {"key": "tag", "kind": "add_tag", "config": {"tag": "handled"}, "next": "end"},
        {"key": "end", "kind": "exit"},
    ]
    if contact_list:
        steps[1]["next"] = "list"
        steps[2:2] = [{"key": "list", "kind": "add_to_list", "config": {"list_id": contact_list.pk}, "next": "enrol"},
                      {"key": "enrol", "kind": "enrol", "config": {"journey_id": target.pk}, "next": "tag"}]
    return steps


def test_a_real_worker_runs_webhook_notify_list_and_enrol_steps(qcluster, smtp_server, httpserver):
    smtp_account(smtp_server)
    subscription, secret = subscription_create(name="CRM", url=httpserver.url_for("/hook"),
                                               events=["contact.created"])
    httpserver.expect_request("/hook", method="POST").respond_with_data("ok")
    sales = UserFactory(email="sales@aicmo.example")
    leads = ContactListFactory(name="Leads")
    nurture = journey(name="Nurture", steps=[
        {"key": "nurtured", "kind": "add_tag", "config": {"tag": "nurtured"}, "next": "end"},
        {"key": "end", "kind": "exit"}])
    welcome = journey(name="Welcome", steps=action_steps(subscription=subscription, user=sales, contact_list=leads,
                                                         target=nurture))
    contacts = [ContactFactory(email=f"lead{n}@example.com") for n in range(3)]
    journey_enrol(journey=welcome, contacts=Contact.objects.filter(pk__in=[c.pk for c in contacts]), source="test")
    cluster = qcluster(**WORKER_ENV)

    def tick(done):
        async_task("automation.tasks.journeys_run")
        time.sleep(0.5)
        return done()

    wait_for(lambda: tick(lambda: enrolments_done(welcome.pk) and enrolments_done(nurture.pk)
                          and JourneyEnrolment.objects.filter(journey=nurture).count() == 3),
             timeout=90, message=f"both journeys through\n{cluster.output()}")
    wait_for(lambda: WebhookMessage.objects.filter(status=MessageStatus.DELIVERED).count() == 3
             and JourneyNotification.objects.filter(status="sent").exists(), timeout=60,
             message=f"the webhooks and the digest\n{cluster.output()}")

    received = [verified(request, secret) for request, _ in httpserver.log]
    assert sorted(body["data"]["contact"]["email"] for body in received) == sorted(c.email for c in contacts)
    assert {(body["type"], body["data"]["step"], body["data"]["journey"]) for body in received} == {
        ("journey.webhook", "hook", "Welcome")}
    digests = [mail for mail in smtp_server.messages if mail.rcpt_tos == ["sales@aicmo.example"]]
    told = Counter(contact.email for contact in contacts for mail in digests
                   if contact.email in mail.message().get_body(("plain",)).get_content())
    assert told == Counter({contact.email: 1 for contact in contacts})
    assert set(leads.members.all()) == set(contacts)
    assert Contact.objects.filter(tags__name="nurtured").count() == 3
    assert set(JourneyStepRun.objects.filter(step__key="enrol").values_list("outcome", flat=True)) == {"enrolled"}


def test_runners_killed_at_random_points_queue_each_webhook_and_notification_once(runners, httpserver,
                                                                                   smtp_server):
    smtp_account(smtp_server)
    seed = random.randrange(1 << 30)
    rng = random.Random(seed)
    contacts = 300
    subscription, secret = subscription_create(name="CRM", url=httpserver.url_for("/hook"),
                                               events=["contact.created"])
    httpserver.expect_request("/hook", method="POST").respond_with_data("ok")
    sales = UserFactory(email="sales@aicmo.example")
    trip = journey(name="Killed", steps=action_steps(subscription=subscription, user=sales))
    Contact.objects.bulk_create([Contact(email=f"k{n}@example.org", domain="example.org") for n in range(contacts)])
    journey_enrol(journey=trip, contacts=Contact.objects.all(), source="test")
    applied = JourneyStepRun.objects.filter(enrolment__journey=trip)
    kills = kill_at_random_points(runners, applied, contacts * 4, rng=rng, seed=seed, tries=8, batches=[5, 10, 25])
    assert kills >= 3, f"the runners finished before most kills: the kills tested little (seed {seed})"
    runners.start()
    wait_for(lambda: enrolments_done(trip.pk), timeout=120, message=f"every contact through (seed {seed})")
    assert set(JourneyEnrolment.objects.filter(journey=trip).values_list("status", flat=True)) == {
        EnrolmentStatus.DONE}

    # Queued once each: one message per contact, one place in one digest per contact.
    messages = WebhookMessage.objects.filter(subscription=subscription)
    enrolments = set(JourneyEnrolment.objects.filter(journey=trip).values_list("pk", flat=True))
    assert sorted(messages.values_list("message_id", flat=True)) == sorted(f"msg_journey_{pk}_0" for pk in enrolments)
    told = Counter(pk for ids in JourneyNotification.objects.values_list("contact_ids", flat=True) for pk in ids)
    assert told == Counter({pk: 1 for pk in Contact.objects.values_list("pk", flat=True)}), f"seed {seed}"

    # Delivered once each.
    messages_deliver_due()
    received = Counter(verified(request, secret)["data"]["enrolment_id"] for request, _ in httpserver.log)
    assert received == Counter({pk: 1 for pk in enrolments})
    digests = JourneyNotification.objects.count()
    assert journey_notifications_send().sent == digests and journey_notifications_send().sent == 0
    assert len(smtp_server.messages) == digests
