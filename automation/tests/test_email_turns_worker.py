"""A journey's emails never hold every worker: behind a slow provider (a real SMTP server that waits
before answering each message) and with the shipped 2 workers, the internal steps of other contacts are
applied while the journey's emails are still queued, and every email goes out once in the end."""

from collections import Counter

import pytest
from django_q.models import Task
from django_q.tasks import async_task

from aicmo_site.testing.worker import wait_for
from automation.choices import EnrolmentStatus
from automation.models import JourneyEnrolment, JourneyStep
from automation.services import journey_enrol
from automation.tests.factories import journey
from crm.models import Contact
from crm.tests.factories import ContactFactory
from publishing.email.choices import DeliveryStatus
from publishing.email.models import EmailDelivery
from publishing.tests.email.factories import EmailTemplateFactory, smtp_account

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]
# Two workers, as shipped, and each send may ask for both; short turns so the test is quick.
WORKER_ENV = {"PUBLIC_BASE_URL": "https://aicmo.example", "Q_WORKERS": "2", "EMAIL_SEND_CONCURRENCY": "2",
              "EMAIL_TURN_SECONDS": "1"}
INTERNAL = [
    {"key": "tag", "kind": "add_tag", "config": {"tag": "onboarded"}, "next": "field"},
    {"key": "field", "kind": "set_field", "config": {"field": "plan", "value": "trial"}, "next": "end"},
    {"key": "end", "kind": "exit"},
]
# At least MAILED x DELAY seconds of sending, however fast the machine: the onboarding must be through
# well before (without turns, both workers sent or waited on these emails until the last had gone).
MAILED, DELAY = 120, 0.4


def through(trip, contacts) -> bool:
    """Ask for the journeys' run (the minute's schedule, sooner) and say whether the contacts are through."""
    async_task("automation.tasks.journeys_run")
    return not JourneyEnrolment.objects.filter(journey=trip, contact__in=contacts).exclude(
        status=EnrolmentStatus.DONE).exists()


def test_internal_steps_are_applied_while_the_journeys_emails_are_slow(qcluster, make_smtp_server):
    server = make_smtp_server(data_delay=DELAY)
    smtp_account(server)
    mailing = journey(name="Mailing", steps=[
        {"key": "welcome", "kind": "send_email", "config": {"template_id": EmailTemplateFactory().pk},
         "next": "end"},
        {"key": "end", "kind": "exit"}])
    onboarding = journey(name="Onboarding", steps=INTERNAL)
    first = [ContactFactory() for _ in range(MAILED)]
    late = ContactFactory()
    others = [ContactFactory() for _ in range(30)]
    qcluster(**WORKER_ENV)

    journey_enrol(journey=mailing, contacts=Contact.objects.filter(pk__in=[c.pk for c in first]), source="test")
    wait_for(lambda: through(mailing, first) and server.messages, timeout=120, interval=1,
             message="the first emails arriving")
    # A second batch of the journey's emails: without turns its task took the second worker, waiting on
    # the first one's claims, and left none for the journeys' own steps.
    journey_enrol(journey=mailing, contacts=Contact.objects.filter(pk=late.pk), source="test")
    wait_for(lambda: through(mailing, [late]), timeout=120, interval=1, message="the late contact's email step")

    journey_enrol(journey=onboarding, contacts=Contact.objects.filter(pk__in=[c.pk for c in others]), source="test")
    wait_for(lambda: through(onboarding, others), timeout=120, interval=1,
             message="the internal steps while the emails go out")

    send = JourneyStep.objects.get(journey=mailing, key="welcome").email_campaign
    assert EmailDelivery.objects.filter(campaign_id=send.campaign_id, status=DeliveryStatus.QUEUED).exists(), (
        "the onboarding went through only after the journey's emails")
    picked = Contact.objects.filter(pk__in=[c.pk for c in others])
    assert picked.filter(tags__name="onboarded").count() == 30
    assert picked.filter(custom_fields__plan="trial").count() == 30

    server.data_delay = 0
    wait_for(lambda: len(server.messages) >= MAILED + 1, timeout=180, message="every email once the server is quick")
    # The server holds a message before its answer reaches the worker, which then marks it sent.
    wait_for(lambda: not EmailDelivery.objects.filter(campaign_id=send.campaign_id).exclude(
        status=DeliveryStatus.SENT).exists(), timeout=30, message="every delivery marked sent")
    assert Counter(address for mail in server.messages for address in mail.rcpt_tos) == Counter(
        {contact.email: 1 for contact in [*first, late]})
    stopped = [result["stopped_because"] for result in Task.objects.filter(
        func="publishing.email.tasks.email_campaign_work").values_list("result", flat=True) if result]
    assert "turn spent" in stopped
