"""Every message of the mail corpus, read from a real Dovecot mailbox and posted to the signed
inbound webhook, does what it means to the right contact: a hard bounce suppresses (reason bounced),
a soft one is counted, a complaint suppresses (reason complained), a reply is engagement on the
delivery's campaign, an auto-reply is only recorded, anything else changes nothing."""

import base64
import json
import time
from email import message_from_bytes

import pytest
from django.utils import timezone

from crm.choices import EventKind, LifecycleStatus
from crm.models import Contact, EngagementEvent, Suppression
from crm.tests.factories import ContactFactory
from gateways import services as gateway_services
from gateways.capabilities import Capability
from gateways.mail.classify import sender_address
from gateways.testing.corpus import CORPUS, corpus_message
from publishing.email import webhooks
from publishing.email.inbox import inbox_poll
from publishing.email.models import EmailDelivery, InboundEvent
from publishing.tests.email.conftest import WEBHOOK_SECRET
from publishing.tests.email.factories import EmailDeliveryFactory

pytestmark = pytest.mark.django_db
MESSAGE_ID = "<1764000000.42.9f3c@mail.aicmo.example>"


def the_delivery(name: str) -> EmailDelivery:
    """Our sent message the corpus file answers, to the contact it names; a contact for every
    other recipient it names."""
    expected = CORPUS[name]
    if expected.kind in ("reply", "auto-reply"):
        people = [sender_address(message_from_bytes(corpus_message(name)))]
    else:
        people = list(expected.recipients) or ["someone@example.org"]
    delivery = EmailDeliveryFactory(contact=ContactFactory(email=people[0]), status="sent", message_id=MESSAGE_ID,
                                    sent_at=timezone.now())
    for email in people[1:]:
        ContactFactory(email=email)
    return delivery


def post_received(client, raw: bytes, msg_id: str = "evt_received_1"):
    body = json.dumps({"type": "email.received", "data": {"raw": base64.b64encode(raw).decode()}}).encode()
    timestamp = int(time.time())
    return client.post("/email/events", body, content_type="application/json", headers={
        "webhook-id": msg_id, "webhook-timestamp": str(timestamp),
        "webhook-signature": webhooks.sign(secret=WEBHOOK_SECRET, msg_id=msg_id, timestamp=timestamp, body=body)})


def assert_applied(name: str, delivery: EmailDelivery) -> None:
    expected = CORPUS[name]
    events = InboundEvent.objects.all()
    if expected.kind == "other":
        assert not events.exists()
        return
    assert {event.kind for event in events} == {expected.kind}
    if expected.kind == "bounce":
        classes = {event.contact.email: event.detail["class"] for event in events.select_related("contact")}
        assert set(classes) == set(expected.recipients)
        for email, bounce_class in classes.items():
            contact = Contact.objects.get(email=email)
            suppressed = Suppression.objects.filter(value=email, reason="bounced").exists()
            assert (contact.lifecycle_status == LifecycleStatus.BOUNCED) is (bounce_class == "hard")
            assert suppressed is (bounce_class == "hard")
            assert contact.soft_bounce_count == (1 if bounce_class == "soft" else 0)
        assert classes[expected.recipients[0]] == expected.bounce_class
    elif expected.kind == "complaint":
        assert Suppression.objects.get(value=delivery.contact.email).reason == "complained"
        assert EngagementEvent.objects.get(kind=EventKind.COMPLAINED).campaign_id == delivery.campaign_id
    elif expected.kind == "reply":
        assert EngagementEvent.objects.get(kind=EventKind.REPLIED).campaign_id == delivery.campaign_id
    else:
        assert events.get().contact == delivery.contact
        assert not EngagementEvent.objects.exists()
        delivery.contact.refresh_from_db()
        assert delivery.contact.lifecycle_status != LifecycleStatus.ENGAGED
    if expected.names_original:
        assert events.filter(delivery=delivery).count() == events.count()


@pytest.mark.parametrize("name", list(CORPUS))
def test_each_message_read_from_the_mailbox(name, imap_account):
    delivery = the_delivery(name)
    imap_account.append(corpus_message(name, message_id=MESSAGE_ID))
    inbox = gateway_services.account_create(
        capability=Capability.INBOX_READING, adapter="imap", name="bounces",
        settings=imap_account.adapter_settings(), credentials=imap_account.adapter_credentials())
    inbox_poll(account_id=inbox.pk)
    assert_applied(name, delivery)


@pytest.mark.parametrize("name", list(CORPUS))
def test_each_message_posted_to_the_inbound_webhook(name, client):
    delivery = the_delivery(name)
    response = post_received(client, corpus_message(name, message_id=MESSAGE_ID))
    assert response.status_code == 200 and response.json()["kind"] == CORPUS[name].kind
    assert_applied(name, delivery)
    replay = post_received(client, corpus_message(name, message_id=MESSAGE_ID))
    assert replay.json()["status"] == "ignored"


def test_a_received_event_without_a_message_is_400(client):
    body = json.dumps({"type": "email.received", "data": {"raw": "not base64!"}}).encode()
    timestamp = int(time.time())
    response = client.post("/email/events", body, content_type="application/json", headers={
        "webhook-id": "evt_2", "webhook-timestamp": str(timestamp),
        "webhook-signature": webhooks.sign(secret=WEBHOOK_SECRET, msg_id="evt_2", timestamp=timestamp, body=body)})
    assert response.status_code == 400 and response.json()["code"] == "invalid_event"
