from decimal import Decimal

import pytest
from django.contrib.admin.models import LogEntry
from django.core.files.base import ContentFile
from django.db.models import Count

from crm.choices import ConsentStatus, EventKind, SuppressionKind
from crm.imports import import_run_create, import_run_start
from crm.imports.validating import erasure_hash
from crm.models import Contact, EngagementEvent, EnrichmentRecord, Suppression
from crm.privacy import contact_erased
from crm.tests.factories import (
    CompanyFactory,
    ContactFactory,
    EngagementEventFactory,
    EnrichmentRecordFactory,
    LifecycleTransitionFactory,
    SuppressionFactory,
    TagFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def ana():
    contact = ContactFactory(email="ana@acme.example", domain="acme.example", first_name="Ana", last_name="Ávila",
                             phone="+33 1 23", city="Paris", linkedin_url="https://linkedin.com/in/ana",
                             company=CompanyFactory(domain="acme.example"), custom_fields={"plan": "gold"},
                             field_sources={"first_name": "manual"}, tags=[TagFactory(name="vip")])
    EngagementEventFactory(contact=contact, kind=EventKind.OPENED, campaign_id=7, detail={"ip": "1.2.3.4"})
    EngagementEventFactory(contact=contact, kind=EventKind.OPENED, campaign_id=7)
    EngagementEventFactory(contact=contact, kind=EventKind.CONVERTED, value=Decimal("42.50"), campaign_id=7)
    LifecycleTransitionFactory(contact=contact, reason="Replied: 'call me, Ana'")
    EnrichmentRecordFactory(contact=contact, raw={"person": {"email": "ana@acme.example"}})
    SuppressionFactory(kind=SuppressionKind.EMAIL, value="ana@acme.example")
    return contact


def test_access_export_holds_everything_known_about_the_person(ana, api_as):
    body = api_as("Analyst").get(f"/api/privacy/contacts/{ana.pk}/export/").json()
    assert body["contact"]["email"] == "ana@acme.example" and body["contact"]["custom_fields"] == {"plan": "gold"}
    assert body["company"]["domain"] == "acme.example" and body["tags"] == ["vip"]
    assert sorted(e["kind"] for e in body["events"]) == ["converted", "opened", "opened"]
    assert {e["value"] for e in body["events"]} == {None, "42.50"}
    assert body["lifecycle_changes"][0]["reason"] == "Replied: 'call me, Ana'"
    assert body["enrichment_records"][0]["raw"] == {"person": {"email": "ana@acme.example"}}
    assert [s["value"] for s in body["suppressions"]] == ["ana@acme.example"]


def test_access_export_of_an_unknown_contact_is_a_404(api_as):
    assert api_as("Analyst").get("/api/privacy/contacts/999/export/").status_code == 404


def test_erase_removes_personal_data_and_keeps_anonymous_counts(ana, api_as):
    api = api_as("Marketer")
    received = []
    contact_erased.connect(lambda sender, **kw: received.append(kw), weak=False, dispatch_uid="test-erase")
    try:
        answer = api.post(f"/api/privacy/contacts/{ana.pk}/erase/", {"confirm": "ANA@acme.example"})
    finally:
        contact_erased.disconnect(dispatch_uid="test-erase")
    assert answer.status_code == 200, answer.json()
    contact = Contact.objects.get(pk=ana.pk)
    assert contact.email.startswith("erased-") and contact.email.endswith("@erased.invalid")
    assert answer.json()["email"] == contact.email
    assert (contact.first_name, contact.last_name, contact.phone, contact.city, contact.linkedin_url) == ("",) * 5
    assert (contact.company, contact.custom_fields, contact.field_sources) == (None, {}, {})
    assert contact.consent_status == ConsentStatus.UNSUBSCRIBED and contact.erased_at is not None
    counts = dict(EngagementEvent.objects.filter(contact=contact).values_list("kind").annotate(n=Count("id")))
    assert counts == {EventKind.OPENED: 2, EventKind.CONVERTED: 1}
    assert not EngagementEvent.objects.exclude(detail={}).exists()
    assert EngagementEvent.objects.get(kind=EventKind.CONVERTED).value == Decimal("42.50")
    assert contact.lifecycle_transitions.get().reason == ""
    assert not EnrichmentRecord.objects.exists()
    assert list(Suppression.objects.values_list("value", flat=True)) == [erasure_hash("ana@acme.example")]
    entry = LogEntry.objects.get(object_id=str(contact.pk))
    assert entry.user == api.user and "Erased at the person's request" in entry.change_message
    assert received == [{"signal": contact_erased, "contact_id": contact.pk, "email": "ana@acme.example"}]


def test_erase_needs_the_address_typed_again_and_happens_once(ana, api_as):
    api = api_as("Marketer")
    refused = api.post(f"/api/privacy/contacts/{ana.pk}/erase/", {"confirm": "someone@else.example"})
    assert refused.status_code == 400 and refused.json()["code"] == "confirmation_required"
    assert api.post(f"/api/privacy/contacts/{ana.pk}/erase/", {}).status_code == 400
    assert Contact.objects.get(pk=ana.pk).erased_at is None
    assert api.post(f"/api/privacy/contacts/{ana.pk}/erase/", {"confirm": "ana@acme.example"}).status_code == 200
    again = api.post(f"/api/privacy/contacts/{ana.pk}/erase/", {"confirm": "ana@acme.example"})
    assert again.status_code == 409 and again.json()["code"] == "already_erased"


def test_only_roles_that_may_delete_contacts_can_erase(ana, api_as):
    assert api_as("Analyst").post(f"/api/privacy/contacts/{ana.pk}/erase/",
                                  {"confirm": "ana@acme.example"}).status_code == 403


def test_an_erased_person_imported_again_is_refused_and_reported(ana, api_as):
    api_as("Marketer").post(f"/api/privacy/contacts/{ana.pk}/erase/", {"confirm": "ana@acme.example"})
    run = import_run_start(run=import_run_create(upload=ContentFile(b"email\nana@acme.example\n", name="x.csv")),
                           background=False)
    assert (run.created_count, run.failed_count) == (0, 1)
    assert not Contact.objects.filter(email="ana@acme.example").exists()
