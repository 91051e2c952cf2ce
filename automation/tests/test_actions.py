"""The action steps that reach outside the contact's record: lists, another journey, a signed webhook, a
person notified; each checked when the journey is saved and applied once per contact's visit."""

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.utils import timezone

from automation.choices import NotificationStatus, ReEntry
from automation.models import JourneyEnrolment, JourneyNotification, JourneyStepRun
from automation.services import journey_create, journey_enrol, journey_pause, journeys_run_due
from automation.services.notifications import journey_notifications_send
from automation.tests.factories import journey
from automation.tests.test_runner import END, outcomes, run
from crm.models import Contact
from crm.services import contact_list_add
from crm.tests.factories import ContactFactory, ContactListFactory
from publishing.tests.email.factories import smtp_account
from publishing.tests.factories import UserFactory
from webhooks.models import MessageStatus, WebhookMessage
from webhooks.services import subscription_create, subscription_update
from webhooks.tasks import deliver_due
from webhooks.tests.conftest import verified

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fresh_subscribed_events_cache():
    cache.clear()
    yield
    cache.clear()


def step(kind, config):
    return [{"key": "act", "kind": kind, "config": config, "next": "end"}, END]


@pytest.mark.parametrize(("kind", "config", "message"), [
    ("add_to_list", {}, "Choose a list of contacts."),
    ("remove_from_list", {"list_id": 999999}, "Choose a list of contacts."),
    ("call_webhook", {"subscription_id": "1"}, "Choose an active webhook subscription to call."),
    ("notify", {"user_id": 999999}, "Choose the person to notify (an active user with an email address)."),
    ("enrol", {"journey_id": True}, "Choose the journey to enrol contacts in."),
])
def test_an_action_step_without_usable_settings_is_refused_with_the_reason(kind, config, message):
    with pytest.raises(ValidationError) as refused:
        journey_create(name="Broken", steps=step(kind, config))
    assert refused.value.message_dict == {"steps[0].config": [message]}


def test_a_paused_webhook_subscription_or_a_person_without_email_is_refused():
    subscription, _ = subscription_create(name="CRM", url="https://example.org/hook", events=["contact.created"])
    subscription_update(subscription=subscription, active=False)
    nameless = UserFactory(email="")
    with pytest.raises(ValidationError) as refused:
        journey_create(name="Broken", steps=[
            {"key": "hook", "kind": "call_webhook", "config": {"subscription_id": subscription.pk}, "next": "tell"},
            {"key": "tell", "kind": "notify", "config": {"user_id": nameless.pk}, "next": "end"}, END])
    assert set(refused.value.message_dict) == {"steps[0].config", "steps[1].config"}


def test_contacts_are_added_to_a_list_and_taken_off_another():
    ann, bob = ContactFactory(), ContactFactory()
    customers, prospects = ContactListFactory(name="Customers"), ContactListFactory(name="Prospects")
    contact_list_add(contact_list=prospects, contacts=[ann.pk, bob.pk])
    run(ann, bob, steps=[
        {"key": "add", "kind": "add_to_list", "config": {"list_id": customers.pk}, "next": "drop"},
        {"key": "drop", "kind": "remove_from_list", "config": {"list_id": prospects.pk}, "next": "end"}, END])
    assert set(customers.members.all()) == {ann, bob} and not prospects.members.exists()
    assert outcomes(ann) == [("add", "next"), ("drop", "next"), ("end", "exit")]


def test_enrolling_in_another_journey_keeps_that_journeys_reentry_rule():
    ann, bob = ContactFactory(), ContactFactory()
    nurture = journey(name="Nurture", reentry=ReEntry.ONCE_EVER, steps=[
        {"key": "wait", "kind": "wait", "config": {"days": 3}, "next": "end"}, END])
    journey_enrol(journey=nurture, contacts=Contact.objects.filter(pk=bob.pk), source="api")
    welcome = run(ann, bob, name="Welcome", steps=step("enrol", {"journey_id": nurture.pk}))
    said = dict(JourneyStepRun.objects.filter(step__key="act").values_list("enrolment__contact_id", "outcome"))
    assert said == {ann.pk: "enrolled", bob.pk: "not enrolled"}
    entered = JourneyEnrolment.objects.filter(journey=nurture).order_by("contact_id")
    assert list(entered.values_list("contact_id", "source")) == [(ann.pk, f"journey:{welcome.pk}"), (bob.pk, "api")]


def test_enrolling_in_a_paused_journey_enrols_nobody_and_moves_on():
    ann = ContactFactory()
    later = journey(name="Later")
    journey_pause(journey=later)
    run(ann, name="Welcome", steps=step("enrol", {"journey_id": later.pk}))
    assert outcomes(ann) == [("act", "not enrolled"), ("end", "exit")]
    assert not JourneyEnrolment.objects.filter(journey=later).exists()


def test_a_webhook_step_queues_one_signed_message_per_contact_and_visit(httpserver):
    subscription, secret = subscription_create(name="CRM", url=httpserver.url_for("/hook"), events=["contact.created"])
    httpserver.expect_request("/hook", method="POST").respond_with_data("ok")
    ann, bob = ContactFactory(), ContactFactory()
    trip = run(ann, bob, steps=step("call_webhook", {"subscription_id": subscription.pk}))
    assert outcomes(ann)[0] == ("act", "queued")

    assert deliver_due() == {"delivered": 2, "retrying": 0, "failed": 0}
    bodies = {}
    for request, _ in httpserver.log:
        body = verified(request, secret)
        bodies[body["data"]["contact"]["contact_id"]] = (request.headers["webhook-id"], body)
    enrolment = JourneyEnrolment.objects.get(contact=ann)
    message_id, body = bodies[ann.pk]
    assert message_id == f"msg_journey_{enrolment.pk}_0"
    assert body["type"] == "journey.webhook"
    assert body["data"] | {"contact": None} == {"contact": None, "journey_id": trip.pk, "journey": trip.name,
                                                "step": "act", "enrolment_id": enrolment.pk}
    assert body["data"]["contact"]["email"] == ann.email and set(bodies) == {ann.pk, bob.pk}
    assert deliver_due() == {"delivered": 0, "retrying": 0, "failed": 0}


def test_a_webhook_step_whose_subscription_was_switched_off_says_so_and_moves_on():
    subscription, _ = subscription_create(name="CRM", url="https://example.org/hook", events=["contact.created"])
    ann = ContactFactory()
    trip = journey(steps=step("call_webhook", {"subscription_id": subscription.pk}))
    journey_enrol(journey=trip, contacts=Contact.objects.filter(pk=ann.pk), source="test")
    subscription_update(subscription=subscription, active=False)
    journeys_run_due()
    assert outcomes(ann) == [("act", "no subscription"), ("end", "exit")]
    assert not WebhookMessage.objects.exists()


def test_a_batch_rolled_back_queues_no_webhook(httpserver, monkeypatch):
    from automation.services import runner

    subscription, _ = subscription_create(name="CRM", url=httpserver.url_for("/hook"), events=["contact.created"])
    ann = ContactFactory()
    trip = journey(steps=step("call_webhook", {"subscription_id": subscription.pk}))
    journey_enrol(journey=trip, contacts=Contact.objects.filter(pk=ann.pk), source="test")

    def crash(*args):
        raise RuntimeError("worker died while logging the steps and moving on")

    monkeypatch.setattr(runner, "_commit", crash)
    with pytest.raises(RuntimeError):
        journeys_run_due()
    assert not WebhookMessage.objects.exists()
    monkeypatch.undo()
    journeys_run_due()
    assert WebhookMessage.objects.get().status == MessageStatus.PENDING


def test_a_notify_step_emails_one_digest_per_batch_once(smtp_server, settings):
    settings.PUBLIC_BASE_URL = "https://aicmo.example"
    smtp_account(smtp_server)
    sales = UserFactory(email="sales@aicmo.example")
    ann, bob = ContactFactory(email="ann@example.com"), ContactFactory(email="bob@example.com")
    trip = run(ann, bob, steps=step("notify", {"user_id": sales.pk, "message": "Call them today."}))
    notification = JourneyNotification.objects.get()
    assert (notification.status, sorted(notification.contact_ids)) == ("pending", sorted([ann.pk, bob.pk]))

    assert journey_notifications_send().sent == 1
    assert journey_notifications_send().sent == 0
    [mail] = smtp_server.messages
    assert mail.rcpt_tos == ["sales@aicmo.example"]
    text = mail.message().get_body(("plain",)).get_content()
    assert "Call them today." in text and "ann@example.com" in text and "bob@example.com" in text
    assert f"https://aicmo.example/journeys/{trip.pk}/" in text
    assert mail.message()["Subject"] == "[AICMO] Welcome: 2 contacts reached “act”"
    notification.refresh_from_db()
    assert notification.status == NotificationStatus.SENT and notification.sent_at


def test_a_digest_whose_worker_died_is_marked_unknown_and_never_resent(smtp_server):
    smtp_account(smtp_server)
    sales = UserFactory(email="sales@aicmo.example")
    run(ContactFactory(), steps=step("notify", {"user_id": sales.pk}))
    JourneyNotification.objects.update(status=NotificationStatus.SENDING,
                                       claimed_at=timezone.now() - timedelta(minutes=11))
    report = journey_notifications_send()
    assert (report.sent, report.unknown) == (0, 1)
    assert JourneyNotification.objects.get().status == NotificationStatus.UNKNOWN
    assert journey_notifications_send().unknown == 0 and not smtp_server.messages


def test_a_digest_the_provider_refused_is_marked_failed_with_the_reason():
    sales = UserFactory(email="sales@aicmo.example")
    run(ContactFactory(), steps=step("notify", {"user_id": sales.pk}))
    assert journey_notifications_send().failed == 1
    notification = JourneyNotification.objects.get()
    assert notification.status == NotificationStatus.FAILED and notification.error
