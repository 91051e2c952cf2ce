import pytest
from django.utils import timezone

from crm import services
from crm.models import Contact, Topic
from crm.selectors import (
    audience_resolve,
    contact_list,
    contact_timeline,
    contacts_emailable,
    contacts_listed,
    segment_members,
)
from crm.tests.factories import CompanyFactory, ContactFactory, EngagementEventFactory, SegmentFactory, TagFactory

pytestmark = pytest.mark.django_db


def test_emailable_removes_every_kind_of_suppressed_person():
    keep = ContactFactory(email="keep@fine.io")
    ContactFactory(email="left@fine.io", consent_status="unsubscribed")
    ContactFactory(email="dead@fine.io", lifecycle_status="bounced")
    ContactFactory(email="bad@fine.io", email_status="invalid")
    ContactFactory(email="gone@fine.io", erased_at=timezone.now())
    ContactFactory(email="listed@fine.io")
    ContactFactory(email="anyone@blocked.io")
    complained = ContactFactory(email="spam@fine.io")
    services.contact_mark_complained(contact=complained)
    services.suppression_add(value="listed@fine.io", reason="manual")
    services.suppression_add(value="blocked.io", reason="manual")
    assert list(contacts_emailable(Contact.objects.all())) == [keep]


def test_audience_resolve_unions_ids_tags_domains_and_segments_once_each():
    vip = TagFactory(name="vip")
    one = ContactFactory(email="one@a.io", tags=[vip])
    two = ContactFactory(email="two@b.io")
    three = ContactFactory(email="three@c.io", engagement_score=70)
    ContactFactory(email="four@d.io")
    segment = SegmentFactory(rules={"op": "and", "rules": [
        {"field": "engagement_score", "operator": "gte", "value": 60}]})
    audience = audience_resolve(contact_ids=[one.pk], tag_ids=[vip.pk], domains=["B.io"], segment_ids=[segment.pk])
    assert sorted(audience.values_list("pk", flat=True)) == sorted([one.pk, two.pk, three.pk])
    assert not audience_resolve().exists()


def test_contact_list_filters_by_tag_lifecycle_score_and_search():
    vip = TagFactory(name="vip")
    ann = ContactFactory(email="ann@acme.io", first_name="Ann", tags=[vip], engagement_score=80)
    ContactFactory(email="bob@acme.io", tags=[vip], engagement_score=10)
    ContactFactory(email="ann@else.io", first_name="Ann", engagement_score=90, lifecycle_status="engaged")
    found = contact_list(filters={"tag": "vip", "score_min": 50, "search": "ann", "lifecycle_status": ["new"]})
    assert list(found) == [ann]
    assert not contact_list(filters={"lifecycle_status": ["nonsense"]}).exists()


def test_timeline_merges_events_moves_and_enrichments_newest_first():
    contact = ContactFactory()
    EngagementEventFactory(contact=contact, kind="sent", occurred_at=timezone.now() - timezone.timedelta(days=2))
    services.contact_merge_enrichment(contact=contact, provider="apollo", fields={"city": "Oslo"}, raw={})
    services.contact_record_event(contact=contact, kind="opened")
    types = [entry["type"] for entry in contact_timeline(contact)]
    assert sorted(types) == ["enrichment", "event", "event", "lifecycle"]
    assert types[-1] == "event"


def test_contacts_listed_carries_company_tags_and_topics_in_the_page_query(django_assert_num_queries):
    ai, events = Topic.objects.create(name="AI", slug="ai"), Topic.objects.create(name="Events", slug="events")
    ann = ContactFactory(email="ann@acme.io", company=CompanyFactory(name="Acme"),
                         tags=[TagFactory(name="vip"), TagFactory(name="beta")])
    ann.topics.set([events, ai])
    ContactFactory(email="bob@other.org")
    with django_assert_num_queries(1):
        listed = {contact.email: contact for contact in contacts_listed()}
    assert (listed["ann@acme.io"].company_name, sorted(listed["ann@acme.io"].tag_names),
            sorted(listed["ann@acme.io"].topic_slugs)) == ("Acme", ["beta", "vip"], ["ai", "events"])
    assert (listed["bob@other.org"].company_name, listed["bob@other.org"].tag_names,
            listed["bob@other.org"].topic_slugs) == ("", [], [])


def test_segment_members_are_the_segment_newest_first_without_the_erased():
    vip = TagFactory(name="vip")
    older = ContactFactory(tags=[vip])
    newer = ContactFactory(tags=[vip])
    ContactFactory(tags=[vip], erased_at=timezone.now())
    ContactFactory()
    segment = SegmentFactory(rules={"op": "and", "rules": [{"field": "tags", "operator": "any", "value": ["vip"]}]})
    assert [contact.pk for contact in segment_members(segment)] == [newer.pk, older.pk]
