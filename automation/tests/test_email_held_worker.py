"""A journey's emails never take every worker: with the provider holding every message mid-send (a real
SMTP server that answers DATA only when released) and the shipped 2 workers, the internal steps of
other contacts are still applied, and every email goes out once when the provider answers again."""

from collections import Counter

import pytest
from django_q.models import Task
from django_q.tasks import async_task

from aicmo_site.testing.worker import wait_for
from automation.choices import EnrolmentStatus
from automation.models import JourneyEnrolment
from automation.services import journey_enrol
from automation.tests.factories import journey
from crm.models import Contact
from crm.tests.factories import ContactFactory
from gateways.models import ProviderAccount
from publishing.tests.email.factories import EmailTemplateFactory, smtp_account

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]
# Two workers, as shipped; each send may ask for both.
WORKER_ENV = {"PUBLIC_BASE_URL": "https://aicmo.example", "Q_WORKERS": "2", "EMAIL_SEND_CONCURRENCY": "2"}
INTERNAL = [
    {"key": "tag", "kind": "add_tag", "config": {"tag": "onboarded"}, "next": "field"},
    {"key": "field", "kind": "set_field", "config": {"field": "plan", "value": "trial"}, "next": "end"},
    {"key": "end", "kind": "exit"},
]


def through(trip, contacts) -> bool:
    """Ask for the journeys' run (the minute's schedule, sooner) and say whether the contacts are through."""
    async_task("automation.tasks.journeys_run")
    return not JourneyEnrolment.objects.filter(journey=trip, contact__in=contacts).exclude(
        status=EnrolmentStatus.DONE).exists()


def test_internal_steps_are_applied_while_the_journeys_emails_are_held(qcluster, make_smtp_server):
    server = make_smtp_server(hold=True)
    # The sender waits on the held message for as long as the test holds it, rather than timing out.
    ProviderAccount.objects.filter(pk=smtp_account(server).pk).update(timeout_seconds=600)
    mailing = journey(name="Mailing", steps=[
        {"key": "welcome", "kind": "send_email", "config": {"template_id": EmailTemplateFactory().pk},
         "next": "end"},
        {"key": "end", "kind": "exit"}])
    onboarding = journey(name="Onboarding", steps=INTERNAL)
    ann, bob, cleo = ContactFactory(), ContactFactory(), ContactFactory()
    others = [ContactFactory() for _ in range(30)]
    qcluster(**WORKER_ENV)

    journey_enrol(journey=mailing, contacts=Contact.objects.filter(pk=ann.pk), source="test")
    wait_for(lambda: through(mailing, [ann]) and server.held, timeout=120, interval=1,
             message="Ann's email held at the server")
    # More of the journey's emails queued while the first is held: a second worker would take them and be
    # held too, leaving none for the journeys' own steps.
    journey_enrol(journey=mailing, contacts=Contact.objects.filter(pk__in=[bob.pk, cleo.pk]), source="test")
    wait_for(lambda: through(mailing, [bob, cleo]), timeout=120, interval=1,
             message="Bob's and Cleo's email steps")

    journey_enrol(journey=onboarding, contacts=Contact.objects.filter(pk__in=[c.pk for c in others]), source="test")
    wait_for(lambda: through(onboarding, others), timeout=120, interval=1,
             message="the internal steps while the email is held")

    # Only the one worker sending is held; the other took the onboarding.
    assert server.hold and server.held == 1 and not server.messages
    picked = Contact.objects.filter(pk__in=[c.pk for c in others])
    assert picked.filter(tags__name="onboarded").count() == 30
    assert picked.filter(custom_fields__plan="trial").count() == 30
    stopped = [result["stopped_because"] for result in Task.objects.filter(
        func="publishing.email.tasks.email_campaign_work").values_list("result", flat=True) if result]
    assert "another worker sends the journeys' emails" in stopped

    server.hold = False
    wait_for(lambda: len(server.messages) >= 3, timeout=180, message="the three emails once the server answers")
    assert Counter(address for mail in server.messages for address in mail.rcpt_tos) == Counter(
        {ann.email: 1, bob.email: 1, cleo.email: 1})
