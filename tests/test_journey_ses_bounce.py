"""End to end through the real parts: a campaign sent through Amazon SES (moto's server, signatures
checked), then SES's bounce notification, signed as SNS signs it, suppresses the address that bounced
and shows in the campaign's figures; the other recipient's delivery notification counts as delivered."""

import email
import json

import pytest
from django.test import Client
from django.urls import reverse

from crm.choices import EventKind, LifecycleStatus
from crm.models import EngagementEvent, Suppression
from crm.tests.factories import ContactFactory
from gateways import services as gateway_services
from gateways.capabilities import Capability
from gateways.testing.ses import SesCredentials
from gateways.testing.sns import TOPIC_ARN, ses_bounce, ses_delivery
from publishing.email.choices import DeliveryStatus
from publishing.email.models import EmailDelivery
from publishing.email.selectors import email_campaign_feedback
from publishing.email.sender import worker_run
from publishing.tests.email.helpers import campaign_for, started

pytestmark = pytest.mark.django_db


def test_an_ses_bounce_notification_suppresses_the_address(ses_server, sns_signer, settings):
    settings.PUBLIC_BASE_URL = "https://aicmo.example"
    settings.EMAIL_UNSUBSCRIBE_MAILTO = "unsubscribe@aicmo.example"
    ses_server.verify_sender("news@aicmo.example")
    gone, fan = ContactFactory(email="gone@example.com"), ContactFactory(email="fan@example.com")
    with SesCredentials() as (key_id, secret):
        gateway_services.account_create(
            capability=Capability.EMAIL_SENDING, adapter="ses", name="ses", base_url=ses_server.url,
            settings={"region": "us-east-1", "from_email": "news@aicmo.example", "configuration_set": "marketing",
                      "notification_topic_arns": TOPIC_ARN},
            credentials={"access_key_id": key_id, "secret_access_key": secret})
        email_campaign = campaign_for([gone, fan])
        started(email_campaign)
        worker_run(email_campaign_id=email_campaign.pk)

    deliveries = {d.contact.email: d for d in EmailDelivery.objects.select_related("contact")}
    assert {d.status for d in deliveries.values()} == {DeliveryStatus.SENT}
    assert {d.provider for d in deliveries.values()} == {"ses"}
    sent = {message.destinations[0]: email.message_from_string(message.raw_data)
            for message in ses_server.sent_messages()}
    assert sorted(sent) == ["fan@example.com", "gone@example.com"]
    assert sent["gone@example.com"]["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"

    # SES names the mail by its own MessageId, which the delivery kept from SendEmail's answer.
    ses_id = {address: d.provider_response.removeprefix("SES MessageId ") for address, d in deliveries.items()}
    bounce = sns_signer.notification(ses_bounce("gone@example.com", ses_message_id=ses_id["gone@example.com"]))
    delivered = sns_signer.notification(ses_delivery("fan@example.com", ses_message_id=ses_id["fan@example.com"]),
                                        version="2")
    url = reverse("email-ses-notifications")
    for message in (bounce, delivered, bounce):  # SNS may deliver a message twice
        assert Client().post(url, data=json.dumps(message), content_type="text/plain").status_code == 200

    gone.refresh_from_db()
    assert gone.lifecycle_status == LifecycleStatus.BOUNCED
    assert Suppression.objects.get(value="gone@example.com").reason == "bounced"
    assert not Suppression.objects.filter(value="fan@example.com").exists()
    bounced = EngagementEvent.objects.get(contact=gone, kind=EventKind.BOUNCED)
    assert bounced.campaign_id == email_campaign.campaign_id
    assert EngagementEvent.objects.get(contact=fan, kind=EventKind.DELIVERED).campaign_id == email_campaign.campaign_id
    feedback = email_campaign_feedback(email_campaign)
    assert (feedback.hard_bounces, feedback.soft_bounces) == (1, 0)
