import pytest
from django.utils import timezone

from crm import selectors, services
from crm.models import Contact, Topic
from crm.selectors import (
    audience_contacts,
    audience_resolve,
    audience_size,
    contact_list,
    contact_timeline,
    contacts_emailable,
    contacts_listed,
    segment_members,
    segment_members_count,
    segment_members_page,
    segments_sized,
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


def test_segment_members_page_lists_the_querysets_page_from_a_statement_compiled_once(
        monkeypatch, django_assert_num_queries):
    vip = TagFactory(name="vip")
    acme = CompanyFactory(name="Acme")
    for index in range(7):
        ContactFactory(email=f"p{index}@acme.io", company=acme, tags=[vip], custom_fields={"n": index})
    ContactFactory(email="out@acme.io")
    segment = SegmentFactory(rules={"op": "and", "rules": [{"field": "tags", "operator": "any", "value": ["vip"]}]})
    compiled = []
    real = selectors._Prepared
    monkeypatch.setattr(selectors, "_Prepared", lambda queryset: compiled.append(1) or real(queryset))
    monkeypatch.setattr(selectors, "_PREPARED", {})

    def shown(contacts):
        return [(c.pk, c.email, c.company_name, c.tag_names, c.topic_slugs, c.custom_fields, c.created_at)
                for c in contacts]

    for offset, limit in ((0, 3), (3, 3), (6, 3)):
        expected = shown(segment_members(segment)[offset:offset + limit])
        with django_assert_num_queries(1):
            assert shown(segment_members_page(segment, offset=offset, limit=limit)) == expected
        with django_assert_num_queries(1):
            assert shown(segment_members_page(segment, offset=offset, limit=limit)) == expected
    assert len(compiled) == 3  # once per page, not once per call
    assert segment_members_page(segment, limit=0) == []
    counted = [segment_members_count(segment, at_most=at_most) for at_most in (3, 100, 3)]
    assert counted == [3, 7, 3] and len(selectors._PREPARED) == 5  # 3 pages, 2 counts


def test_segment_members_page_follows_changed_rules_and_the_clock(monkeypatch):
    monkeypatch.setattr(selectors, "_PREPARED", {})
    ann, bob = ContactFactory(engagement_score=90), ContactFactory(engagement_score=10)
    segment = SegmentFactory(rules={"op": "and", "rules": [
        {"field": "engagement_score", "operator": "gte", "value": 50}]})
    assert [c.pk for c in segment_members_page(segment)] == [ann.pk]
    segment.rules = {"op": "and", "rules": [{"field": "engagement_score", "operator": "lte", "value": 50}]}
    assert [c.pk for c in segment_members_page(segment)] == [bob.pk]
    segment.rules = {"op": "and", "rules": [
        {"field": "event", "operator": "within_days", "value": {"kind": "opened", "days": 30}}]}
    assert segment_members_page(segment) == []
    # The kept statement measures "the last 30 days" when it runs, not when it was compiled.
    EngagementEventFactory(contact=bob, kind="opened", occurred_at=timezone.now() - timezone.timedelta(days=29))
    EngagementEventFactory(contact=ann, kind="opened", occurred_at=timezone.now() - timezone.timedelta(days=31))
    assert [c.pk for c in segment_members_page(segment)] == [bob.pk]


def test_a_first_page_in_an_order_no_index_serves_picks_its_ids_first():
    for score in (10, 90, 50, 90):
        ContactFactory(engagement_score=score, tags=[TagFactory()])
    by_score = contacts_listed().order_by("-engagement_score", "-id")
    page = selectors.contacts_page(by_score[:3])
    assert " IN (SELECT " in str(page.query)  # the sort reads narrow rows, the extras come for 3 contacts
    assert [(c.pk, c.tag_names) for c in page] == [(c.pk, c.tag_names) for c in by_score[:3]]
    newest = contacts_listed()[:3]
    assert selectors.contacts_page(newest) is newest  # the created_at index serves the newest first


def test_segment_statements_are_kept_per_time_zone_a_calendar_day_depends_on(monkeypatch):
    monkeypatch.setattr(selectors, "_PREPARED", {})
    late = ContactFactory()
    Contact.objects.filter(pk=late.pk).update(created_at="2026-03-01T23:30:00Z")
    segment = SegmentFactory(rules={"op": "and", "rules": [
        {"field": "created_at", "operator": "after", "value": "2026-03-02"}]})
    assert segment_members_page(segment) == []
    with timezone.override("Europe/Paris"):  # 00:30 on 2 March there
        assert [c.pk for c in segment_members_page(segment)] == [late.pk]


def test_audience_leaves_out_excluded_segments_and_counts_who_may_be_emailed(django_assert_num_queries):
    ContactFactory(email="keen@a.io", engagement_score=80)
    ContactFactory(email="staff@us.io", engagement_score=90)
    ContactFactory(email="quiet@a.io", engagement_score=70, consent_status="unsubscribed")
    keen = SegmentFactory(name="Keen", rules={"op": "and", "rules": [
        {"field": "engagement_score", "operator": "gte", "value": 60}]})
    staff = SegmentFactory(name="Staff", rules={"op": "and", "rules": [
        {"field": "domain", "operator": "in", "value": ["us.io"]}]})
    audience = {"segment_ids": [keen.pk], "exclude_segment_ids": [staff.pk]}
    assert sorted(audience_contacts(audience).values_list("email", flat=True)) == ["keen@a.io", "quiet@a.io"]
    with django_assert_num_queries(3):  # the two segments' rules, then one count
        assert audience_size(audience) == {"picked": 2, "emailable": 1, "left_out": 1}
    with django_assert_num_queries(2):
        assert {s.name: s.size for s in segments_sized()} == {"Keen": 3, "Staff": 1}
