from datetime import timedelta

import pytest
from django.utils import timezone
from django_q.models import OrmQ

from publishing.email.choices import DeliveryStatus, SendStatus
from publishing.email.models import EmailDelivery
from publishing.email.sender import claim_batch
from publishing.email.tasks import email_wake_sends
from publishing.tests.email.helpers import ready_campaign, started

pytestmark = pytest.mark.django_db


def test_wake_up_recovers_a_dead_workers_message_and_completes_the_send(smtp_server):
    email_campaign, _ = ready_campaign(smtp_server, 1)
    started(email_campaign)
    (claimed,) = claim_batch(campaign_id=email_campaign.campaign_id, owner="dead", size=5)
    EmailDelivery.objects.filter(pk=claimed).update(status=DeliveryStatus.SENDING, message_id="<m@x>",
                                                    lease_expires_at=timezone.now() - timedelta(seconds=1))
    assert email_wake_sends() == 0
    assert EmailDelivery.objects.get(pk=claimed).status == DeliveryStatus.OUTCOME_UNKNOWN
    email_campaign.refresh_from_db()
    assert email_campaign.status == SendStatus.COMPLETED


def test_wake_up_enqueues_workers_only_for_sends_with_due_work_and_no_live_claims(smtp_server, settings):
    settings.EMAIL_SEND_CONCURRENCY = 2
    email_campaign, _ = ready_campaign(smtp_server, 3)
    started(email_campaign)
    assert email_wake_sends() == 1
    assert OrmQ.objects.count() == 2
    claim_batch(campaign_id=email_campaign.campaign_id, owner="alive", size=1)
    assert email_wake_sends() == 0  # a live worker holds a claim: it takes the rest itself
