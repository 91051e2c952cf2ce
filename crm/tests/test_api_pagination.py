"""Contact pages: a capped count by page number, keyset pages by cursor, a fixed number of queries."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from crm.tests.factories import ContactFactory, SegmentFactory, TagFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def marketer(contacts_api):
    return contacts_api


@pytest.fixture
def count_at_most_five(monkeypatch):
    monkeypatch.setattr("crm.api.pagination.COUNT_AT_MOST", 5)


def queries_of(client, url):
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, response.data
    return response, len(captured)


def test_a_count_under_the_cap_is_exact_and_not_capped(marketer):
    ContactFactory.create_batch(3)
    page = marketer.get("/api/contacts/").data
    assert (page["count"], page["count_capped"], page["next"]) == (3, False, None)


def test_beyond_the_cap_the_count_stops_and_says_so(marketer, count_at_most_five):
    ContactFactory.create_batch(8)
    page = marketer.get("/api/contacts/?page_size=5").data
    assert (page["count"], page["count_capped"], len(page["results"])) == (5, True, 5)
    assert "page=2" in page["next"]
    rest = marketer.get(page["next"]).data
    assert (len(rest["results"]), rest["count"], rest["count_capped"], rest["next"]) == (3, 8, False, None)


def test_a_page_past_the_cap_is_still_reachable_by_number(marketer, count_at_most_five):
    ContactFactory.create_batch(9)
    page = marketer.get("/api/contacts/?page_size=2&page=4").data
    assert (len(page["results"]), page["count"], page["count_capped"]) == (2, 8, True)
    assert marketer.get("/api/contacts/?page_size=2&page=6").status_code == 404


def test_numbered_pages_walk_every_contact_in_order_once_with_their_tags(marketer):
    vip = TagFactory(name="vip")
    made = [ContactFactory(tags=[vip], engagement_score=score) for score in (30, 10, 50, 20, 40)]
    for ordering, key in (("", lambda c: (c.created_at, c.pk)), ("&ordering=-engagement_score",
                                                                  lambda c: c.engagement_score)):
        pages = [marketer.get(f"/api/contacts/?page_size=2&page={number}{ordering}").data["results"]
                 for number in (1, 2, 3)]
        assert [contact["id"] for page in pages for contact in page] == [
            contact.pk for contact in sorted(made, key=key, reverse=True)]
        assert all(contact["tags"] == ["vip"] for page in pages for contact in page)


def test_the_capped_count_applies_the_filters(marketer, count_at_most_five):
    vip = TagFactory(name="vip")
    ContactFactory.create_batch(4, tags=[vip], lifecycle_status="engaged")
    ContactFactory.create_batch(4, lifecycle_status="engaged")
    page = marketer.get("/api/contacts/?tag=vip&lifecycle_status=engaged").data
    assert (page["count"], page["count_capped"]) == (4, False)


def test_cursor_pages_walk_every_contact_newest_first_once(marketer):
    made = ContactFactory.create_batch(7)
    seen, url = [], "/api/contacts/?cursor=&page_size=3"
    while url:
        page = marketer.get(url).data
        assert "count" not in page
        seen += [contact["id"] for contact in page["results"]]
        url = page["next"]
    assert seen == [contact.pk for contact in sorted(made, key=lambda c: (c.created_at, c.pk), reverse=True)]


def test_cursor_pages_keep_the_filters(marketer):
    vip = TagFactory(name="vip")
    tagged = ContactFactory.create_batch(2, tags=[vip])
    ContactFactory.create_batch(2)
    page = marketer.get("/api/contacts/?cursor=&tag=vip").data
    assert sorted(contact["id"] for contact in page["results"]) == sorted(contact.pk for contact in tagged)


def test_a_broken_cursor_is_refused(marketer):
    assert marketer.get("/api/contacts/?cursor=not-a-cursor").status_code == 404


def test_a_cursor_with_another_ordering_is_refused(marketer):
    refused = marketer.get("/api/contacts/?cursor=&ordering=email")
    assert refused.status_code == 400 and "ordering" in refused.data["fields"]


def test_pages_keep_a_fixed_number_of_queries_as_contacts_grow(marketer, count_at_most_five):
    vip = TagFactory(name="vip")
    ContactFactory.create_batch(2, tags=[vip], lifecycle_status="engaged")
    urls = ("/api/contacts/?tag=vip&lifecycle_status=engaged&page_size=2",
            "/api/contacts/?tag=vip&lifecycle_status=engaged&page_size=2&cursor=")
    before = [queries_of(marketer, url)[1] for url in urls]
    assert before == [2, 1]  # the count, then the page with its tags and topics; the cursor page does not count
    ContactFactory.create_batch(10, tags=[vip, TagFactory()], lifecycle_status="engaged")
    after = [queries_of(marketer, url) for url in urls]
    assert [queries for _, queries in after] == before
    assert after[0][0].data["count_capped"] is True


def test_segment_members_count_is_capped_too(marketer, count_at_most_five):
    ContactFactory.create_batch(7, engagement_score=80)
    segment = SegmentFactory(rules={"op": "and", "rules": [
        {"field": "engagement_score", "operator": "gte", "value": 50}]})
    page = marketer.get(f"/api/segments/{segment.pk}/members/?page_size=3").data
    assert (page["count"], page["count_capped"], len(page["results"])) == (5, True, 3)


def test_segment_members_pages_follow_the_segment_when_its_rules_change(marketer):
    vip = TagFactory(name="vip")
    tagged = [ContactFactory(tags=[vip], engagement_score=10 * index) for index in range(5)]
    segment = SegmentFactory(rules={"op": "and", "rules": [{"field": "tags", "operator": "any", "value": ["vip"]}]})
    url = f"/api/segments/{segment.pk}/members/?page_size=2"
    pages = [marketer.get(f"{url}&page={number}").data for number in (1, 2, 3)]
    assert [c["id"] for page in pages for c in page["results"]] == [c.pk for c in reversed(tagged)]
    assert pages[0]["results"][0]["tags"] == ["vip"] and pages[2]["next"] is None
    changed = marketer.patch(f"/api/segments/{segment.pk}/", {"rules": {"op": "and", "rules": [
        {"field": "engagement_score", "operator": "gte", "value": 30}]}}, format="json")
    assert changed.status_code == 200, changed.data
    assert [c["id"] for c in marketer.get(url).data["results"]] == [tagged[4].pk, tagged[3].pk]
    marketer.patch(f"/api/segments/{segment.pk}/", {"rules": {"op": "and", "rules": [
        {"field": "engagement_score", "operator": "gte", "value": 100}]}}, format="json")
    assert marketer.get(url).data["results"] == []


def test_pages_sorted_by_score_walk_every_contact_once_ties_broken_by_id(marketer):
    same = ContactFactory.create_batch(5, engagement_score=50)
    top = ContactFactory(engagement_score=90)
    url = "/api/contacts/?ordering=-engagement_score&page_size=2"
    walked = [c["id"] for number in (1, 2, 3) for c in marketer.get(f"{url}&page={number}").data["results"]]
    assert walked == [top.pk] + sorted((c.pk for c in same), reverse=True)
    ascending = marketer.get("/api/contacts/?ordering=engagement_score&page_size=6").data["results"]
    assert [c["id"] for c in ascending] == sorted(c.pk for c in same) + [top.pk]
