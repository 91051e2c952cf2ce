"""/email/ses/notifications: SES bounces, complaints and deliveries posted by SNS, signed with a test key
whose certificate a local server serves, feed the same suppression and figures as mailbox bounces."""

import json

import pytest
from django.test import Client
from django.urls import reverse

from crm.choices import ConsentStatus, EventKind, LifecycleStatus
from crm.models import EngagementEvent, Suppression
from crm.tests.factories import ContactFactory
from gateways import services as gateway_services
from gateways.capabilities import Capability
from gateways.testing.sns import TOPIC_ARN, ses_bounce, ses_complaint, ses_delivery
from publishing.email.choices import DeliveryStatus
from publishing.email.models import InboundEvent
from publishing.email.tokens import make_bounce_tag
from publishing.tests.email.factories import EmailDeliveryFactory

pytestmark = pytest.mark.django_db
URL = reverse("email-ses-notifications")


@pytest.fixture
def ses_topic():
    """An SES sending account naming the test topic as its notifications' topic."""
    return gateway_services.account_create(
        capability=Capability.EMAIL_SENDING, adapter="ses", name="ses",
        settings={"region": "us-east-1", "from_email": "news@aicmo.example", "notification_topic_arns": TOPIC_ARN},
        credentials={"access_key_id": "AKIAEXAMPLE0000", "secret_access_key": "s" * 40})


def post(message):
    # SNS posts JSON with Content-Type text/plain.
    return Client().post(URL, data=json.dumps(message), content_type="text/plain; charset=UTF-8",
                         HTTP_X_AMZ_SNS_MESSAGE_TYPE=message.get("Type", ""))


def test_a_hard_bounce_suppresses_the_address_once(sns_signer, ses_topic):
    contact = ContactFactory(email="gone@example.com")
    message = sns_signer.notification(ses_bounce("gone@example.com"))

    first, replayed = post(message), post(message)

    assert (first.status_code, first.json()["status"]) == (200, "applied")
    assert (replayed.status_code, replayed.json()["status"]) == (200, "ignored")
    contact.refresh_from_db()
    assert contact.lifecycle_status == LifecycleStatus.BOUNCED
    assert Suppression.objects.get(value="gone@example.com").reason == "bounced"
    assert EngagementEvent.objects.filter(contact=contact, kind=EventKind.BOUNCED).count() == 1
    assert InboundEvent.objects.get(source="ses").event_id == message["MessageId"]


def test_a_transient_bounce_is_counted_not_suppressed(sns_signer, ses_topic, settings):
    settings.CRM_SOFT_BOUNCE_LIMIT = 3
    contact = ContactFactory(email="full@example.com")
    assert post(sns_signer.notification(ses_bounce("full@example.com", permanent=False))).status_code == 200
    contact.refresh_from_db()
    assert contact.soft_bounce_count == 1
    assert not Suppression.objects.filter(value="full@example.com").exists()


def test_a_complaint_suppresses_and_unsubscribes(sns_signer, ses_topic):
    contact = ContactFactory(email="angry@example.com")
    assert post(sns_signer.notification(ses_complaint("angry@example.com"), version="2")).json()["status"] == "applied"
    contact.refresh_from_db()
    assert contact.consent_status == ConsentStatus.UNSUBSCRIBED
    assert Suppression.objects.get(value="angry@example.com").reason == "complained"


def test_a_delivery_counts_for_the_delivery_its_tag_names(sns_signer, ses_topic):
    delivery = EmailDeliveryFactory(status=DeliveryStatus.SENT, message_id="<not-what-ses-says@aicmo.example>",
                                    contact=ContactFactory(email="fan@example.com"))
    notification = ses_delivery("fan@example.com", tags={"aicmo-delivery": [make_bounce_tag(delivery.pk)]})
    assert post(sns_signer.notification(notification)).json()["status"] == "applied"
    event = EngagementEvent.objects.get(contact=delivery.contact, kind=EventKind.DELIVERED)
    assert event.campaign_id == delivery.campaign_id
    assert InboundEvent.objects.get(source="ses").delivery == delivery


def test_a_delivery_is_found_by_the_message_id_ses_gave_it(sns_signer, ses_topic):
    delivery = EmailDeliveryFactory(status=DeliveryStatus.SENT, message_id="<0100-abc@email.amazonses.com>",
                                    contact=ContactFactory(email="fan@example.com"))
    post(sns_signer.notification(ses_delivery("fan@example.com", ses_message_id="0100-abc")))
    assert InboundEvent.objects.get(source="ses").delivery == delivery


@pytest.mark.parametrize("tamper", ["flipped", "foreign_topic", "wrong_cert_host", "not_json"])
def test_a_message_that_is_not_ours_changes_nothing(sns_signer, ses_topic, tamper):
    ContactFactory(email="gone@example.com")
    message = sns_signer.notification(ses_bounce("gone@example.com"))
    if tamper == "flipped":
        message["Message"] = json.dumps(ses_bounce("someone-else@example.com"))
    elif tamper == "foreign_topic":
        message = sns_signer.notification(ses_bounce("gone@example.com"),
                                          topic_arn="arn:aws:sns:us-east-1:999999999999:theirs")
    elif tamper == "wrong_cert_host":
        message = sns_signer.notification(ses_bounce("gone@example.com"),
                                          SigningCertURL="https://evil.example/SimpleNotificationService-1.pem")
    response = Client().post(URL, data="{not json" if tamper == "not_json" else json.dumps(message),
                             content_type="text/plain")
    assert response.status_code in (400, 403)
    assert not Suppression.objects.exists() and not InboundEvent.objects.exists()


def test_the_subscription_is_confirmed(sns_signer, ses_topic, httpserver):
    httpserver.expect_request("/confirm").respond_with_data("<ConfirmSubscriptionResponse/>")
    response = post(sns_signer.subscription_confirmation(httpserver.url_for("/confirm") + "?Token=abc"))
    assert response.json() == {"status": "confirmed"}
    assert [request.args["Token"] for request, _ in httpserver.log if request.path == "/confirm"] == ["abc"]


def test_a_confirmation_for_a_topic_no_account_names_is_refused(sns_signer, httpserver):
    httpserver.expect_request("/confirm").respond_with_data("<ConfirmSubscriptionResponse/>")
    response = post(sns_signer.subscription_confirmation(httpserver.url_for("/confirm")))
    assert response.status_code == 403
    assert not [request for request, _ in httpserver.log if request.path == "/confirm"]


def test_a_certificate_that_cannot_be_fetched_now_asks_sns_to_deliver_again(sns_signer, ses_topic, httpserver):
    ContactFactory(email="gone@example.com")
    httpserver.expect_request("/SimpleNotificationService-down.pem").respond_with_data("busy", status=503)
    message = sns_signer.notification(ses_bounce("gone@example.com"),
                                      SigningCertURL=httpserver.url_for("/SimpleNotificationService-down.pem"))
    response = post(message)
    assert response.status_code == 503  # SNS retries a 5xx; it would drop the message after a 4xx
    assert not Suppression.objects.exists() and not InboundEvent.objects.exists()
