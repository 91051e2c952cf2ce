"""A send through Amazon SES (moto) whose account has used up its 24-hour quota waits for it: nothing
is sent, no delivery spends an attempt, and the send is not paused as if no provider were set up."""

from datetime import timedelta

import pytest
from django.utils import timezone

from crm.tests.factories import ContactFactory
from gateways import services as gateway_services
from gateways.capabilities import Capability
from gateways.models import ProviderHealth
from publishing.email.choices import DeliveryStatus, SendStatus
from publishing.email.models import EmailDelivery
from publishing.email.sender import worker_run
from publishing.tests.email.helpers import campaign_for, started

pytestmark = pytest.mark.django_db


def test_a_used_up_quota_holds_the_send_without_spending_attempts(ses_server):
    ses_server.verify_sender("news@aicmo.example")
    account = gateway_services.account_create(
        capability=Capability.EMAIL_SENDING, adapter="ses", name="ses", base_url=ses_server.url,
        settings={"region": "us-east-1", "from_email": "news@aicmo.example"},
        credentials={"access_key_id": "AKIAEXAMPLE0000", "secret_access_key": "s" * 40})
    ses_server.state.sent_last_24_hours = 200
    email_campaign = campaign_for([ContactFactory() for _ in range(3)])
    started(email_campaign)

    worker_run(email_campaign_id=email_campaign.pk)

    deliveries = list(EmailDelivery.objects.filter(campaign_id=email_campaign.campaign_id))
    assert {(d.status, d.attempts) for d in deliveries} == {(DeliveryStatus.QUEUED, 0)}, [d.error for d in deliveries]
    held = [d for d in deliveries if d.next_attempt_at and d.next_attempt_at > timezone.now() + timedelta(minutes=50)]
    assert held and all("quota" in d.error for d in held)
    email_campaign.refresh_from_db()
    assert email_campaign.status == SendStatus.SENDING
    assert ses_server.sent_messages() == []
    assert ProviderHealth.objects.get(account=account).failures == 0
