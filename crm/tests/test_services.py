from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from aicmo_site.errors import ConflictError, DomainError
from crm import services
from crm.choices import ConsentStatus, EmailStatus, EventKind, LifecycleStatus, SuppressionKind, SuppressionReason
from crm.models import Contact, EngagementEvent, EnrichmentRecord, LifecycleTransition, Suppression
from crm.tests.factories import CompanyFactory, ContactFactory, TagFactory

pytestmark = pytest.mark.django_db

MONDAY = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


def test_create_normalises_email_derives_domain_links_company_and_marks_sources():
    company = CompanyFactory(domain="acme.io")
    contact = services.contact_create(email="  Ann.Lee@ACME.io ", first_name="Ann", tags=["vip"])
    assert contact.email == "ann.lee@acme.io"
    assert contact.domain == "acme.io"
    assert contact.company == company
    assert contact.field_sources == {"first_name": "manual", "email": "manual"}
    assert list(contact.tags.values_list("name", flat=True)) == ["vip"]


def test_create_refuses_same_email_in_other_case():
    ContactFactory(email="ann@acme.io")
    with pytest.raises(ConflictError) as error:
        services.contact_create(email="ANN@acme.io")
    assert error.value.code == "duplicate_email"


def test_create_refuses_invalid_email_and_unknown_fields():
    with pytest.raises(DomainError, match="not a valid email"):
        services.contact_create(email="not-an-email")
    with pytest.raises(DomainError, match="lifecycle_status"):
        services.contact_create(email="a@b.io", lifecycle_status="converted")


def test_update_marks_changed_fields_manual_and_moves_domain_with_email():
    contact = ContactFactory(email="a@old.io", job_title="CTO")
    services.contact_update(contact=contact, job_title="CEO", email="A@New.io")
    contact.refresh_from_db()
    assert (contact.job_title, contact.email, contact.domain) == ("CEO", "a@new.io", "new.io")
    assert contact.field_sources["job_title"] == "manual"


def test_an_edit_from_a_page_read_earlier_keeps_what_the_workers_wrote_since():
    contact = ContactFactory(email="ann@acme.io", job_title="CTO")
    Contact.objects.filter(pk=contact.pk).update(
        engagement_score=71, soft_bounce_count=2, last_activity_at=MONDAY, lifecycle_status=LifecycleStatus.ENGAGED)
    services.contact_update(contact=contact, job_title="CEO")
    stored = Contact.objects.get(pk=contact.pk)
    assert stored.job_title == "CEO"
    assert (stored.engagement_score, stored.soft_bounce_count, stored.last_activity_at, stored.lifecycle_status) == (
        71, 2, MONDAY, LifecycleStatus.ENGAGED)


def test_allowed_transition_is_recorded_with_who_and_why(make_user):
    user = make_user("marketer")
    contact = ContactFactory()
    services.contact_transition(contact=contact, to=LifecycleStatus.ENRICHED, by=user, reason="checked by hand")
    move = LifecycleTransition.objects.get(contact=contact)
    assert (move.from_status, move.to_status, move.by, move.reason) == ("new", "enriched", user, "checked by hand")
    contact.refresh_from_db()
    assert contact.lifecycle_status == LifecycleStatus.ENRICHED


def test_transition_not_in_the_table_is_refused_with_the_allowed_ones():
    contact = ContactFactory(lifecycle_status=LifecycleStatus.CONVERTED)
    with pytest.raises(DomainError) as error:
        services.contact_transition(contact=contact, to=LifecycleStatus.NEW, by_system="test")
    assert error.value.code == "transition_not_allowed"
    assert set(error.value.extra["allowed"]) == {"unsubscribed", "bounced"}
    assert not LifecycleTransition.objects.exists()


@pytest.mark.parametrize("start", [s for s in LifecycleStatus.values if s != LifecycleStatus.UNSUBSCRIBED])
def test_unsubscribed_is_reachable_from_any_state(start):
    contact = ContactFactory(lifecycle_status=start)
    services.contact_transition(contact=contact, to=LifecycleStatus.UNSUBSCRIBED, by_system="test")
    assert Contact.objects.get(pk=contact.pk).lifecycle_status == LifecycleStatus.UNSUBSCRIBED


def test_open_engages_a_new_contact_and_converts_later():
    contact = ContactFactory()
    services.contact_record_event(contact=contact, kind=EventKind.OPENED, channel="email", campaign_id=7)
    assert Contact.objects.get(pk=contact.pk).lifecycle_status == LifecycleStatus.ENGAGED
    assert LifecycleTransition.objects.get(contact=contact).by_system == "email:opened"
    event = services.contact_record_event(contact=contact, kind=EventKind.CONVERTED, value="49.90")
    assert event.value == Decimal("49.90")
    assert Contact.objects.get(pk=contact.pk).lifecycle_status == LifecycleStatus.CONVERTED


def test_open_after_conversion_does_not_move_back():
    contact = ContactFactory(lifecycle_status=LifecycleStatus.CONVERTED)
    services.contact_record_event(contact=contact, kind=EventKind.CLICKED)
    assert Contact.objects.get(pk=contact.pk).lifecycle_status == LifecycleStatus.CONVERTED


def test_unknown_event_kind_is_refused():
    with pytest.raises(DomainError, match="not an event kind"):
        services.contact_record_event(contact=ContactFactory(), kind="teleported")


def test_unsubscribe_suppresses_records_consent_and_is_idempotent():
    contact = ContactFactory(email="leave@acme.io")
    services.contact_unsubscribe(contact=contact, source="unsubscribe link", reason="too many emails")
    services.contact_unsubscribe(contact=Contact.objects.get(pk=contact.pk), source="unsubscribe link")
    contact.refresh_from_db()
    assert contact.consent_status == ConsentStatus.UNSUBSCRIBED
    assert contact.consent_source == "unsubscribe link"
    assert contact.lifecycle_status == LifecycleStatus.UNSUBSCRIBED
    assert contact.events.filter(kind=EventKind.UNSUBSCRIBED).count() == 1
    assert Suppression.objects.get(value="leave@acme.io").reason == SuppressionReason.UNSUBSCRIBED


def test_hard_bounce_marks_invalid_suppresses_and_moves_to_bounced():
    contact = ContactFactory(email="gone@acme.io")
    services.contact_mark_bounced(contact=contact, hard=True, detail="5.1.1 user unknown")
    contact.refresh_from_db()
    assert (contact.email_status, contact.lifecycle_status) == (EmailStatus.INVALID, LifecycleStatus.BOUNCED)
    assert Suppression.objects.filter(value="gone@acme.io", reason="bounced").exists()


def test_soft_bounces_suppress_only_at_the_limit(settings):
    settings.CRM_SOFT_BOUNCE_LIMIT = 2
    contact = ContactFactory(email="full@acme.io")
    services.contact_mark_bounced(contact=contact, hard=False)
    assert not Suppression.objects.exists()
    services.contact_mark_bounced(contact=contact, hard=False)
    contact.refresh_from_db()
    assert contact.soft_bounce_count == 2
    assert contact.lifecycle_status == LifecycleStatus.BOUNCED


def test_complaint_unsubscribes_and_suppresses():
    contact = ContactFactory(email="angry@acme.io")
    services.contact_mark_complained(contact=contact)
    contact.refresh_from_db()
    assert contact.consent_status == ConsentStatus.UNSUBSCRIBED
    assert Suppression.objects.filter(value="angry@acme.io").exists()


def test_suppression_takes_addresses_and_domains_and_refuses_junk():
    assert services.suppression_add(value="@Spam.Example", reason="manual").kind == SuppressionKind.DOMAIN
    assert services.suppression_add(value="X@Y.io", reason="manual").value == "x@y.io"
    assert services.suppression_add(value="x@y.io", reason="bounced").reason == "manual"
    with pytest.raises(DomainError):
        services.suppression_add(value="not a thing", reason="manual")
    with pytest.raises(DomainError):
        services.suppression_add(value="a@b.io", reason="because")
    services.suppression_remove(value="spam.example")
    assert list(Suppression.objects.values_list("value", flat=True)) == ["x@y.io"]
    with pytest.raises(DomainError):
        services.suppression_remove(value="spam.example")


def test_tag_and_untag_a_whole_queryset_without_duplicates():
    contacts = [ContactFactory(email=f"p{i}@acme.io") for i in range(3)]
    TagFactory(name="vip").contacts.add(contacts[0])
    added = services.contacts_tag(contacts=Contact.objects.filter(domain="acme.io"), tag_names=["vip", "2026"])
    assert added == 5
    assert services.contacts_tag(contacts=contacts, tag_names=["vip"]) == 0
    removed = services.contacts_untag(contacts=[contacts[0].pk], tag_names=["vip", "2026"])
    assert removed == 2
    assert Contact.tags.through.objects.count() == 4


def test_tagging_or_untagging_nobody_changes_nothing():
    ContactFactory(email="p@acme.io")
    assert services.contacts_tag(contacts=Contact.objects.none(), tag_names=["vip"]) == 0
    assert services.contacts_tag(contacts=[], tag_names=["vip"]) == 0
    assert services.contacts_untag(contacts=[], tag_names=["vip"]) == 0
    assert Contact.tags.through.objects.count() == 0


def test_enrichment_merge_never_overwrites_typed_fields_and_records_the_answer():
    contact = services.contact_create(email="ann@acme.io", job_title="Chief of Things")
    contact.field_sources["city"] = "apollo"
    changed = services.contact_merge_enrichment(
        contact=contact, provider="apollo",
        fields={"job_title": "VP Sales", "city": "Lyon", "phone": "",
                "company_name": "Acme", "company_domain": "acme.io"},
        raw={"person": {"id": "p1"}},
    )
    contact.refresh_from_db()
    assert contact.job_title == "Chief of Things"
    assert contact.city == "Lyon"
    assert contact.company.name == "Acme"
    assert set(changed) == {"city", "company"}
    assert contact.field_sources["city"] == "apollo" and contact.field_sources["job_title"] == "manual"
    assert EnrichmentRecord.objects.get(contact=contact).raw == {"person": {"id": "p1"}}


def test_newest_provider_answer_wins_over_an_older_one():
    contact = ContactFactory(email="bo@acme.io")
    services.contact_merge_enrichment(contact=contact, provider="apollo", fields={"city": "Lyon"}, raw={})
    services.contact_merge_enrichment(contact=contact, provider="hunter", fields={"city": "Paris"}, raw={})
    contact.refresh_from_db()
    assert (contact.city, contact.field_sources["city"]) == ("Paris", "hunter")


def test_an_event_of_the_person_moves_the_last_activity_and_a_late_earlier_one_does_not():
    contact = ContactFactory()
    services.contact_record_event(contact=contact, kind=EventKind.PAGE_VIEW, occurred_at=MONDAY)
    assert Contact.objects.get(pk=contact.pk).last_activity_at == MONDAY == contact.last_activity_at
    services.contact_record_event(contact=contact, kind=EventKind.REPLIED, occurred_at=MONDAY - timedelta(days=3))
    assert Contact.objects.get(pk=contact.pk).last_activity_at == MONDAY == contact.last_activity_at
    services.contact_unsubscribe(contact=contact, source="unsubscribe link")
    assert Contact.objects.get(pk=contact.pk).last_activity_at > MONDAY


@pytest.mark.parametrize("kind", [EventKind.SENT, EventKind.DELIVERED, EventKind.BOUNCED])
def test_what_happened_to_the_address_is_no_activity_of_the_person(kind):
    contact = ContactFactory()
    services.contact_record_event(contact=contact, kind=kind, occurred_at=MONDAY)
    services.contact_mark_bounced(contact=contact, hard=False)
    assert Contact.objects.get(pk=contact.pk).last_activity_at is None


def test_a_batch_of_engagement_moves_each_contact_to_its_latest_event_in_one_update():
    ann, bob, active_later = ContactFactory(), ContactFactory(), ContactFactory(last_activity_at=MONDAY)
    untouched = ContactFactory()
    events = [EngagementEvent(contact=contact, kind=kind, occurred_at=MONDAY - timedelta(hours=hours))
              for contact, kind, hours in ((ann, EventKind.OPENED, 5), (ann, EventKind.CLICKED, 2),
                                           (bob, EventKind.OPENED, 1), (ann, EventKind.OPENED, 4),
                                           (active_later, EventKind.CLICKED, 1))]
    with CaptureQueriesContext(connection) as captured:
        services.contacts_record_engagement(events=events)
    assert len([query for query in captured if "SET last_activity_at" in query["sql"]]) == 1
    found = dict(Contact.objects.values_list("pk", "last_activity_at"))
    assert found == {ann.pk: MONDAY - timedelta(hours=2), bob.pk: MONDAY - timedelta(hours=1),
                     active_later.pk: MONDAY, untouched.pk: None}
