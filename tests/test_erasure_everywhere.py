"""Erasing a person leaves no copy of their address in any app: crm scrubs its rows, and publishing and
analytics scrub theirs on `contact_erased`, in the same transaction, keeping the counts."""

from datetime import date

import pytest
from django.apps import apps

from analytics.models import ContactScore, ContactScoreHistory
from analytics.services.scoring import contact_score_one
from crm.choices import EventKind
from crm.privacy import contact_erase
from crm.tests.factories import ContactFactory, ContactListFactory, EngagementEventFactory
from publishing.email.choices import DeliveryStatus, InboundEventKind
from publishing.email.models import EmailDelivery, InboundEvent
from publishing.tests.email.factories import EmailDeliveryFactory

pytestmark = pytest.mark.django_db
ADDRESS = "ana.avila@acme.example"


def rows_mentioning(address: str) -> list[str]:
    """Every row of every model of the domain apps whose values, as text, contain the address."""
    found = []
    for label in ("crm", "publishing", "analytics", "media", "gateways"):
        for model in apps.get_app_config(label).get_models():
            concrete = [field.attname for field in model._meta.concrete_fields]
            for values in model.objects.values_list(*concrete):
                if any(address in str(value).lower() for value in values):
                    found.append(f"{model._meta.label}: {values}")
    return found


@pytest.fixture
def ana():
    contact = ContactFactory(email=ADDRESS)
    sent = EmailDeliveryFactory(contact=contact, status=DeliveryStatus.SENT, message_id="<1.1.x@mail.example>",
                                provider="smtp-test", provider_response=f"250 2.0.0 OK queued for <{ADDRESS}>",
                                failover_note=f"backup: 451 <{ADDRESS}> greylisted", open_count=2)
    bounced = EmailDeliveryFactory(contact=contact, status=DeliveryStatus.FAILED, error=f"550 5.1.1 <{ADDRESS}>")
    InboundEvent.objects.create(source="webhook", event_id="evt_1", kind=InboundEventKind.BOUNCE, delivery=bounced,
                                contact=contact, detail={"diagnostic": f"550 5.1.1 <{ADDRESS}>: no such user"})
    InboundEvent.objects.create(source="inbox:1", event_id="evt_2", kind=InboundEventKind.REPLY,
                                detail={"subject": "Re: news", "from": ADDRESS.upper()})
    InboundEvent.objects.create(source="webhook", event_id="evt_3", kind=InboundEventKind.COMPLAINT,
                                delivery=sent, detail={"type": "email.complained"})
    EngagementEventFactory(contact=contact, kind=EventKind.OPENED, detail={"ip": "1.2.3.4"})
    contact_score_one(contact_id=contact.pk)
    ContactScoreHistory.objects.create(contact=contact, day=date(2026, 1, 5), score=12, tier="low")
    ContactScoreHistory.objects.create(contact=contact, day=date(2026, 2, 5), score=30, tier="low")
    return contact


def test_erasure_leaves_the_address_nowhere_and_keeps_the_counts(ana, make_user):
    other = EmailDeliveryFactory(provider_response="250 OK for someone else")
    other_history = ContactScoreHistory.objects.create(contact=other.contact, day=date(2026, 1, 5), score=5,
                                                       tier="low")
    assert len(rows_mentioning(ADDRESS)) >= 5  # the contact, two deliveries, two inbound events

    guests = ContactListFactory(members=[ana, other.contact])
    contact_erase(contact=ana, by=make_user("dpo"), confirm=ADDRESS)

    assert rows_mentioning(ADDRESS) == []
    assert list(guests.members.all()) == [other.contact]  # off every list; the others stay
    deliveries = EmailDelivery.objects.filter(contact=ana).order_by("id")
    assert [(d.status, d.open_count, d.message_id != "") for d in deliveries] == [
        (DeliveryStatus.SENT, 2, True), (DeliveryStatus.FAILED, 0, False)]
    assert sorted(InboundEvent.objects.values_list("kind", flat=True)) == sorted(
        [InboundEventKind.BOUNCE, InboundEventKind.REPLY, InboundEventKind.COMPLAINT])
    assert not InboundEvent.objects.exclude(detail={}).exists()
    assert not ContactScoreHistory.objects.filter(contact=ana).exists()
    assert ContactScore.objects.filter(contact=ana).exists()  # tier counts stay true
    other.refresh_from_db()
    assert other.provider_response == "250 OK for someone else"
    assert list(ContactScoreHistory.objects.all()) == [other_history]


def test_a_refused_erasure_scrubs_nothing(ana, make_user):
    from aicmo_site.errors import DomainError

    history = ContactScoreHistory.objects.filter(contact=ana).count()
    with pytest.raises(DomainError):
        contact_erase(contact=ana, by=make_user("dpo"), confirm="someone@else.example")
    assert ContactScoreHistory.objects.filter(contact=ana).count() == history > 0
    assert EmailDelivery.objects.filter(contact=ana, error__contains=ADDRESS).exists()
