"""Sends delivered at each contact's best hour, with a real django-q2 worker and a real aiosmtpd server:
what is due goes out once, what is not yet due waits (through a pause too), and kill -9 duplicates nothing."""

import os
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from aicmo_site.testing.worker import wait_for
from crm.choices import EventKind
from crm.models import EngagementEvent
from crm.tests.factories import ContactFactory
from publishing.email.choices import DeliveryStatus, SendStatus
from publishing.email.models import EmailDelivery
from publishing.email.services import campaign_wake, email_campaign_pause, email_campaign_resume
from publishing.tests.email.factories import smtp_account
from publishing.tests.email.helpers import campaign_for, started
from publishing.tests.email.test_worker import (
    WORKER_ENV,
    assert_exactly_once,
    copies,
    finished,
    kill_and_restart,
    send_status,
)

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def habit(contacts, *, hours_from_now: int) -> None:
    """Three opens each, last three weeks, at the hour of day `hours_from_now` from now."""
    at = timezone.now() + timedelta(hours=hours_from_now)
    EngagementEvent.objects.bulk_create(
        EngagementEvent(contact=contact, kind=EventKind.OPENED, occurred_at=at - timedelta(days=7 * week),
                        channel="email") for contact in contacts for week in (1, 2, 3))


def crash_audience(smtp_server, *, audience: int, kills: int, hours: int) -> tuple[list, int]:
    """The kill tests' contacts (EMAIL_CRASH_AUDIENCE of them, or `audience`), contact i usually opening
    `i % hours` hours from now, and how many kills to make (EMAIL_CRASH_KILLS, or `kills`)."""
    smtp_account(smtp_server)
    contacts = [ContactFactory() for _ in range(int(os.environ.get("EMAIL_CRASH_AUDIENCE", str(audience))))]
    for offset in range(hours):
        habit(contacts[offset::hours], hours_from_now=offset)
    return contacts, int(os.environ.get("EMAIL_CRASH_KILLS", str(kills)))


def slots_compressed(deliveries) -> int:
    """The deliveries' hours compressed into seconds, in their order, so a run sees each slot come due.
    Returns how many slots there were."""
    slots = sorted(set(deliveries.values_list("next_attempt_at", flat=True)))
    now = timezone.now()
    for index, slot in enumerate(slots[1:], start=1):
        deliveries.filter(next_attempt_at=slot).update(next_attempt_at=now + timedelta(seconds=index))
    return len(slots)


def sent_to(email_campaign) -> set[str]:
    return set(EmailDelivery.objects.filter(campaign_id=email_campaign.campaign_id, status=DeliveryStatus.SENT)
               .values_list("contact__email", flat=True))


def test_due_deliveries_go_once_and_later_ones_wait_through_a_pause(qcluster, smtp_server):
    smtp_account(smtp_server)
    early = [ContactFactory() for _ in range(4)]
    late = [ContactFactory() for _ in range(3)]
    habit(early, hours_from_now=0)
    habit(late, hours_from_now=5)
    email_campaign = campaign_for(early + late, deliver_at_best_hour=True)
    qcluster(**WORKER_ENV)

    started(email_campaign)
    wait_for(lambda: len(sent_to(email_campaign)) == 4, timeout=60, message="the deliveries due now")
    campaign_wake(email_campaign.pk)  # as the periodic wake-up does: nothing more is due
    time.sleep(2)
    assert sent_to(email_campaign) == {contact.email for contact in early}
    assert send_status(email_campaign) == SendStatus.SENDING
    waiting = EmailDelivery.objects.filter(campaign_id=email_campaign.campaign_id, status=DeliveryStatus.QUEUED)
    assert {delivery.next_attempt_at.hour for delivery in waiting} == {(timezone.now() + timedelta(hours=5)).hour}

    email_campaign_pause(email_campaign=email_campaign)
    waiting.update(next_attempt_at=timezone.now() - timedelta(minutes=1))  # their hour has come
    campaign_wake(email_campaign.pk)
    time.sleep(2)
    assert len(smtp_server.messages) == 4, "a paused send delivered"

    email_campaign_resume(email_campaign=email_campaign)
    wait_for(lambda: finished(email_campaign), timeout=60, message="the send to complete once all were due")
    assert send_status(email_campaign) == SendStatus.COMPLETED
    assert copies(smtp_server) == {contact.email: 1 for contact in early + late}


def test_killing_the_worker_during_a_best_hour_send_never_duplicates_or_skips(qcluster, smtp_server):
    """300 contacts over 6 hours (EMAIL_CRASH_AUDIENCE for more), not the issue's 100,000: every message here
    goes through a real worker and SMTP server, which on the shared machine takes minutes a few thousand, and
    the leases and marks that make a kill harmless work per delivery whatever the audience. The 100,000-delivery
    spread and its claims, hour by hour, are test_send_times' set-based test."""
    hours = 6
    contacts, kills = crash_audience(smtp_server, audience=300, kills=5, hours=hours)
    audience = len(contacts)
    email_campaign = campaign_for(contacts, deliver_at_best_hour=True)
    cluster = qcluster(**WORKER_ENV)

    started(email_campaign)
    assert slots_compressed(EmailDelivery.objects.filter(campaign_id=email_campaign.campaign_id)) == hours
    cluster = kill_and_restart(qcluster, cluster, email_campaign, smtp_server, kills=kills, audience=audience)
    wait_for(lambda: finished(email_campaign), timeout=60 + audience / 5, message="the send to complete after kills")
    cluster.kill()
    assert_exactly_once(email_campaign, smtp_server, kills=kills, audience=audience)
