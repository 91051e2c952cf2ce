"""Each business event, caused by the real service that records it, reaches a loopback subscriber signed
the Standard Webhooks way (checked with the independent standardwebhooks library)."""

from collections import Counter

import pytest
from django.core.cache import cache
from django.core.files.base import ContentFile

from crm.imports.run import import_run_create, import_run_start
from crm.services import (
    contact_create,
    contact_unsubscribe,
    contact_update,
    segment_entries_refresh,
    suppression_add,
)
from crm.tests.factories import ContactFactory, SegmentFactory
from publishing import dispatcher
from publishing.email.choices import InboundEventKind
from publishing.email.models import EmailDelivery, EmailLink
from publishing.email.sender import worker_run
from publishing.email.services.feedback import delivery_record_click, delivery_record_open, inbound_event_apply
from publishing.tests.channels import channel_on
from publishing.tests.email.helpers import ready_campaign, started
from publishing.tests.factories import JobFactory
from webhooks.events_catalogue import EVENTS
from webhooks.services import subscription_create
from webhooks.tasks import deliver_due
from webhooks.tests.conftest import verified

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fresh_subscribed_events_cache(settings):
    settings.PUBLISHING_DISPATCH_THREADS = 1
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def receiver(httpserver):
    """A subscription to every event at /events; `received()` delivers what is due and returns the verified bodies."""
    _, secret = subscription_create(name="Everything", url=httpserver.url_for("/events"), events=list(EVENTS))
    httpserver.expect_request("/events", method="POST").respond_with_data("ok")

    def received() -> list[dict]:
        deliver_due()
        return [verified(request, secret) for request, _ in httpserver.log if request.path == "/events"]

    return received


def kinds(bodies) -> Counter:
    return Counter(body["type"] for body in bodies)


def test_contact_created_updated_unsubscribed_and_suppressed(receiver):
    contact = contact_create(email="ada@example.com", first_name="Ada")
    contact_update(contact=contact, city="London")
    contact_unsubscribe(contact=contact, source="test", reason="too many")
    suppression_add(value="spam.example", reason="manual")

    bodies = receiver()
    assert kinds(bodies) == {"contact.created": 1, "contact.updated": 1, "contact.unsubscribed": 1,
                             "contact.suppressed": 2}
    by_type = {body["type"]: body["data"] for body in bodies}
    assert by_type["contact.created"]["email"] == "ada@example.com"
    assert by_type["contact.updated"]["city"] == "London"
    assert by_type["contact.unsubscribed"]["reason"] == "too many"
    assert {body["data"]["value"] for body in bodies if body["type"] == "contact.suppressed"} == {
        "ada@example.com", "spam.example"}


def test_import_finished_carries_its_counts(receiver):
    upload = ContentFile(b"email,first_name\nann@example.com,Ann\nbob@example.com,Bob\nnot-an-email,X\n",
                         name="people.csv")
    import_run_start(run=import_run_create(upload=upload), background=False)

    [finished] = [body for body in receiver() if body["type"] == "import.finished"]
    assert finished["data"]["status"] == "completed"
    assert (finished["data"]["created"], finished["data"]["failed"]) == (2, 1)


def test_segment_entered_announces_newcomers_only_for_segments_marked_so(receiver):
    rules = {"op": "and", "rules": [{"field": "city", "operator": "eq", "value": "Paris"}]}
    marked = SegmentFactory(name="Parisians", rules=rules, announce_entries=True)
    SegmentFactory(name="Parisians, quietly", rules=rules)
    ContactFactory(city="Paris", email="already@example.com")
    segment_entries_refresh(segment=marked)  # the first check records who is in, announcing no one

    ContactFactory(city="Paris", email="newcomer@example.com")
    ContactFactory(city="Rome")
    assert segment_entries_refresh(segment=marked) == 1
    assert segment_entries_refresh(segment=marked) == 0

    entered = [body["data"] for body in receiver() if body["type"] == "segment.entered"]
    assert [(data["segment"], data["email"]) for data in entered] == [("Parisians", "newcomer@example.com")]


def test_an_email_send_announces_start_each_message_sent_opened_clicked_bounced_complained_and_completion(
        receiver, smtp_server):
    email_campaign, contacts = ready_campaign(smtp_server, 3)
    started(email_campaign)
    worker_run(email_campaign_id=email_campaign.pk)
    first, second, third = EmailDelivery.objects.select_related("contact").order_by("pk")
    delivery_record_open(delivery=first)
    link = EmailLink.objects.create(campaign_id=first.campaign_id, url="https://example.com/offer", url_hash="x")
    delivery_record_click(delivery=first, link=link)
    inbound_event_apply(source="test", event_id="b1", kind=InboundEventKind.BOUNCE, message_ids=(second.message_id,))
    inbound_event_apply(source="test", event_id="c1", kind=InboundEventKind.COMPLAINT,
                        message_ids=(third.message_id,))

    bodies = receiver()
    counts = kinds(bodies)
    assert {event: counts[event] for event in ("campaign.started", "email.sent", "campaign.completed",
                                               "email.opened", "email.clicked", "email.bounced",
                                               "email.complained")} == {
        "campaign.started": 1, "email.sent": 3, "campaign.completed": 1, "email.opened": 1, "email.clicked": 1,
        "email.bounced": 1, "email.complained": 1}
    sent = sorted(body["data"]["email"] for body in bodies if body["type"] == "email.sent")
    assert sent == sorted(contact.email for contact in contacts)
    clicked = next(body["data"] for body in bodies if body["type"] == "email.clicked")
    assert (clicked["delivery_id"], clicked["url"]) == (first.pk, "https://example.com/offer")
    bounced = next(body["data"] for body in bodies if body["type"] == "email.bounced")
    assert bounced["delivery_id"] == second.pk


def test_jobs_published_and_failed_and_their_campaigns_started_and_completed(receiver, httpserver):
    httpserver.expect_request("/slack-ok", method="POST").respond_with_data("ok")
    httpserver.expect_request("/slack-bad", method="POST").respond_with_data("invalid_payload", status=400)
    good = JobFactory(channel=channel_on(httpserver, "slack", path="/slack-ok"), campaign__status="scheduled")
    bad = JobFactory(channel=channel_on(httpserver, "slack", path="/slack-bad"), campaign__status="scheduled")
    dispatcher.dispatch_once()

    bodies = receiver()
    assert [body["data"]["job_id"] for body in bodies if body["type"] == "job.published"] == [good.pk]
    assert [body["data"]["job_id"] for body in bodies if body["type"] == "job.failed"] == [bad.pk]
    assert sorted(body["data"]["campaign_id"] for body in bodies if body["type"] == "campaign.started") == sorted(
        [good.campaign_id, bad.campaign_id])
    assert sorted(body["data"]["campaign_id"] for body in bodies if body["type"] == "campaign.completed") == sorted(
        [good.campaign_id, bad.campaign_id])
