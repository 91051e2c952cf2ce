"""Deep numbered contact pages seek from remembered positions and list exactly what an OFFSET would."""

import pickle
from datetime import UTC, datetime, timedelta

import pytest
from django.core.cache import cache
from django.db import connection
from django.db.models import F
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from crm.api.pagination import CappedCountPaginator
from crm.models import Contact
from crm.tests.factories import ContactFactory, SegmentFactory, TagFactory

pytestmark = pytest.mark.django_db

EVERY = 4  # rows between remembered positions: small, so that five contacts already make deep pages
MONDAY = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
RECENTLY_ACTIVE = (F("last_activity_at").desc(nulls_last=True), "-id")
LONGEST_INACTIVE = (F("last_activity_at").asc(nulls_last=True), "id")


@pytest.fixture(autouse=True)
def anchors_every_four(monkeypatch):
    monkeypatch.setattr("crm.page_anchors.ANCHOR_EVERY", EVERY)
    monkeypatch.setattr("crm.page_anchors.DEEP_FROM", EVERY)
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def marketer(contacts_api):
    return contacts_api


@pytest.fixture
def contacts():
    vip = TagFactory(name="vip")
    # Scores and last activities repeat (ties broken by id), a third were never active, and every other contact
    # is a VIP in the engaged stage.
    return [ContactFactory(engagement_score=score % 5, tags=[vip] if score % 2 else [],
                           lifecycle_status="engaged" if score % 2 else "new",
                           last_activity_at=MONDAY - timedelta(hours=score % 4) if score % 3 else None)
            for score in range(23)]


def ids_of(client, url):
    response = client.get(url)
    assert response.status_code == 200, response.data
    return [contact["id"] for contact in response.data["results"]], response.data


def offset_page(queryset, number, size):
    return list(queryset.values_list("pk", flat=True)[(number - 1) * size:number * size])


@pytest.mark.parametrize("query, ordering", [
    ("", ("-created_at", "-id")),
    ("ordering=-engagement_score", ("-engagement_score", "-id")),
    ("ordering=engagement_score", ("engagement_score", "id")),
    ("ordering=email", ("email", "id")),
    ("tag=vip&lifecycle_status=engaged&ordering=-engagement_score", ("-engagement_score", "-id")),
    ("ordering=-engagement_score,created_at", ("-engagement_score", "created_at", "id")),
    ("ordering=-last_activity_at", RECENTLY_ACTIVE),
    ("ordering=last_activity_at", LONGEST_INACTIVE),
    ("tag=vip&lifecycle_status=engaged&ordering=-last_activity_at", RECENTLY_ACTIVE),
])
def test_every_deep_page_lists_what_an_offset_lists(marketer, contacts, query, ordering):
    listed = Contact.objects.order_by(*ordering)
    if "tag=vip" in query:
        listed = listed.filter(tags__name="vip", lifecycle_status="engaged")
    size, expected_total = 3, listed.count()
    for number in range(1, expected_total // size + 2):
        found, page = ids_of(marketer, f"/api/contacts/?page_size={size}&page={number}&{query}")
        assert found == offset_page(listed, number, size), number
        if number * size > 1_000 or number > 1:
            assert page["count"] == min(expected_total, max(1_000, number * size))


@pytest.mark.parametrize("query, ordering", [
    ("", ("-created_at", "-id")),
    ("ordering=-engagement_score", ("-engagement_score", "-id")),
    ("ordering=engagement_score", ("engagement_score", "id")),
    ("ordering=email", ("email", "id")),  # text: numbered again
    ("ordering=-last_activity_at", RECENTLY_ACTIVE),
    ("ordering=last_activity_at", LONGEST_INACTIVE),
])
def test_contacts_added_since_move_the_later_pages_exactly(marketer, contacts, query, ordering):
    listed = Contact.objects.order_by(*ordering)
    ids_of(marketer, f"/api/contacts/?page_size=3&page=5&{query}")
    for score in (4, 0, 2):
        ContactFactory(engagement_score=score, email=f"added-{score}@example.com",
                       last_activity_at=MONDAY - timedelta(hours=score) if score else None)
    for number in (2, 5, 7, 9):
        found, page = ids_of(marketer, f"/api/contacts/?page_size=3&page={number}&{query}")
        assert found == offset_page(listed, number, 3), number
        assert page["count"] == 26


@pytest.mark.parametrize("query, ordering", [
    ("ordering=-engagement_score", ("-engagement_score", "-id")),
    ("ordering=-last_activity_at", RECENTLY_ACTIVE),
    ("ordering=last_activity_at", LONGEST_INACTIVE),
])
def test_the_back_office_deep_page_lists_what_an_offset_lists(client, django_user_model, contacts, monkeypatch,
                                                              query, ordering):
    monkeypatch.setattr("crm.views.PAGE_SIZE", 3)
    client.force_login(django_user_model.objects.create_superuser("boss", "boss@example.com", "pw-123456789"))
    response = client.get(reverse("crm:contact-list") + f"?{query}&page=6")
    assert response.status_code == 200
    listed = Contact.objects.order_by(*ordering)
    assert [contact.pk for contact in response.context["page"].object_list] == offset_page(listed, 6, 3)


@pytest.mark.parametrize("query", ["ordering=-engagement_score", "ordering=-last_activity_at"])
def test_a_deep_page_from_remembered_positions_costs_a_fixed_number_of_queries(marketer, contacts, query):
    url = f"/api/contacts/?page_size=3&page=6&{query}"
    ids_of(marketer, url)  # numbers the list
    with CaptureQueriesContext(connection) as captured:
        ids_of(marketer, url)
    # the newest id (twice: count, page), the page; no count, no OFFSET past the remembered row
    assert len(captured) == 3, [query["sql"] for query in captured]


def test_a_segments_deep_members_page_stays_exact_after_a_new_contact(marketer, contacts):
    # Its statement is compiled once and kept: a remembered position compiled into it would go stale.
    segment = SegmentFactory(rules={"op": "and", "rules": []})
    url = f"/api/segments/{segment.pk}/members/?page_size=3&page=6"
    listed = Contact.objects.order_by("-created_at", "-id")
    assert ids_of(marketer, url)[0] == offset_page(listed, 6, 3)
    ContactFactory()
    assert ids_of(marketer, url)[0] == offset_page(listed, 6, 3)


@pytest.fixture
def shared_cache(tmp_path, settings):
    """A cache a worker process would share with the pages (a file one here): positions numbered in the
    background reach the pages only through one."""
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
                                   "LOCATION": str(tmp_path / "cache")}}


@pytest.fixture
def queued(monkeypatch):
    """The numberings queued; and the count's cap as small as the remembered rows, so that the lists here have far
    pages (only such lists are numbered in the background)."""
    monkeypatch.setattr("crm.api.pagination.COUNT_AT_MOST", EVERY)
    monkeypatch.setattr(CappedCountPaginator, "count_at_most", EVERY)
    found = []
    monkeypatch.setattr("crm.page_anchors.async_task", lambda func, *args: found.append((func, args)))
    return found


def numbered_in(captured) -> bool:
    return any("ROW_NUMBER" in query["sql"].upper() for query in captured)


def test_a_first_page_queues_the_numbering_once_and_a_far_page_finds_it_done(marketer, contacts, shared_cache,
                                                                           queued):
    query = "tag=vip&lifecycle_status=engaged&ordering=-engagement_score"
    with CaptureQueriesContext(connection) as first:
        ids_of(marketer, f"/api/contacts/?page_size=3&page=1&{query}")
    ids_of(marketer, f"/api/contacts/?page_size=3&page=2&{query}")
    assert not numbered_in(first)
    assert [func for func, _ in queued] == ["crm.tasks.page_anchors_number_task"]
    # The worker: the task's arguments go through the queue pickled.
    from crm.tasks import page_anchors_number_task
    func, args = queued[0]
    assert args == ({"tag": ["vip"], "lifecycle_status": ["engaged"], "ordering": ["-engagement_score"]},)
    assert page_anchors_number_task(*pickle.loads(pickle.dumps(args))) == 11
    with CaptureQueriesContext(connection) as far:
        found, page = ids_of(marketer, f"/api/contacts/?page_size=3&page=4&{query}")
    assert not numbered_in(far) and len(far) == 3
    listed = Contact.objects.filter(tags__name="vip", lifecycle_status="engaged").order_by("-engagement_score", "-id")
    assert found == offset_page(listed, 4, 3) and page["count"] == 11
    ids_of(marketer, f"/api/contacts/?page_size=3&page=1&{query}")
    assert len(queued) == 1  # remembered now: nothing more to queue


def test_a_far_page_asked_before_the_queued_numbering_ran_numbers_its_list_itself(marketer, contacts, shared_cache,
                                                                                queued):
    ids_of(marketer, "/api/contacts/?page_size=3&page=1")
    with CaptureQueriesContext(connection) as far:
        found, _ = ids_of(marketer, "/api/contacts/?page_size=3&page=6")
    assert numbered_in(far) and found == offset_page(Contact.objects.order_by("-created_at", "-id"), 6, 3)
    assert len(queued) == 1


FILTERED = "tag=vip&lifecycle_status=engaged"


def filtered_in(ordering):
    return Contact.objects.filter(tags__name="vip", lifecycle_status="engaged").order_by(*ordering)


# The sorts a marketer takes a filtered list in: newest first, by score, by last activity.
far_filtered_sorts = pytest.mark.parametrize("query, ordering", [
    ("ordering=-created_at", ("-created_at", "-id")),
    ("ordering=-engagement_score", ("-engagement_score", "-id")),
    ("ordering=-last_activity_at", RECENTLY_ACTIVE),
])


@far_filtered_sorts
def test_a_first_visit_straight_to_a_far_page_of_a_filtered_list_lists_what_an_offset_lists(
        marketer, contacts, shared_cache, queued, query, ordering):
    # No earlier page of the list was asked, so nothing numbered it: the request does, and the count it shows is
    # the one an OFFSET page with a count as far as the page shows (11 match: page 3 of 3 reads "9+", page 4 "11").
    listed = filtered_in(ordering)
    for number, count, capped in ((3, 9, True), (4, 11, False)):
        cache.clear()
        with CaptureQueriesContext(connection) as first:
            found, page = ids_of(marketer, f"/api/contacts/?page_size=3&page={number}&{FILTERED}&{query}")
        assert numbered_in(first)
        assert found == offset_page(listed, number, 3), number
        assert (page["count"], page["count_capped"], page["next"] is not None) == (count, capped, capped), number
    assert queued == []  # a far page numbers its own list: nothing left for a worker


@far_filtered_sorts
def test_the_back_office_first_visit_straight_to_a_far_filtered_page_lists_what_an_offset_lists(
        client, django_user_model, contacts, shared_cache, queued, monkeypatch, query, ordering):
    monkeypatch.setattr("crm.views.PAGE_SIZE", 3)
    client.force_login(django_user_model.objects.create_superuser("boss", "boss@example.com", "pw-123456789"))
    for number, count, capped in ((3, 9, True), (4, 11, False)):
        cache.clear()
        with CaptureQueriesContext(connection) as first:
            response = client.get(reverse("crm:contact-list") + f"?{FILTERED}&{query}&page={number}")
        assert response.status_code == 200 and numbered_in(first)
        page = response.context["page"]
        assert [contact.pk for contact in page.object_list] == offset_page(filtered_in(ordering), number, 3), number
        assert (page.paginator.count, page.paginator.capped) == (count, capped), number
        assert f"of {count}{'+' if capped else ''} contacts" in response.content.decode()


def test_nothing_is_queued_when_the_cache_is_the_process_own(marketer, contacts, queued):
    cache.clear()  # the client's first request (no contacts yet) may have marked the list
    ids_of(marketer, "/api/contacts/?page_size=3&page=1")
    assert queued == []


def test_nothing_is_queued_for_a_list_without_far_pages(marketer, contacts, shared_cache, queued):
    ids_of(marketer, "/api/contacts/?page_size=3&page=1&score_min=4")  # 4 contacts: no more than the cap
    assert queued == []


def test_a_queued_numbering_whose_filters_no_longer_hold_numbers_nothing(contacts):
    from crm.tasks import page_anchors_number_task
    assert page_anchors_number_task({"segment": ["999999"], "ordering": ["-engagement_score"]}) is None


def test_the_scheduled_numbering_keeps_every_unfiltered_sort_the_back_office_offers(marketer, contacts,
                                                                                    shared_cache):
    from crm.tasks import page_anchors_keep_task
    assert page_anchors_keep_task() == 7  # every sort but the company's name, which a seek cannot follow
    for ordering in ("-created_at", "created_at", "email", "last_name", "-engagement_score", "-last_activity_at",
                     "last_activity_at"):
        with CaptureQueriesContext(connection) as far:
            ids_of(marketer, f"/api/contacts/?page_size=3&page=6&ordering={ordering}")
        assert not numbered_in(far), ordering


def test_the_scheduled_numbering_numbers_nothing_when_the_cache_is_the_process_own(contacts):
    from crm.tasks import page_anchors_keep_task
    with CaptureQueriesContext(connection) as numbering:
        assert page_anchors_keep_task() == 0
    assert not numbered_in(numbering)


def test_the_back_office_first_page_queues_the_numbering_its_far_page_finds(client, django_user_model, contacts,
                                                                           shared_cache, queued, monkeypatch):
    from crm.tasks import page_anchors_number_task
    monkeypatch.setattr("crm.views.PAGE_SIZE", 3)
    client.force_login(django_user_model.objects.create_superuser("boss", "boss@example.com", "pw-123456789"))
    assert client.get(reverse("crm:contact-list") + "?ordering=-last_activity_at&page=1").status_code == 200
    page_anchors_number_task(*queued[0][1])
    with CaptureQueriesContext(connection) as far:
        response = client.get(reverse("crm:contact-list") + "?ordering=-last_activity_at&page=6")
    assert not numbered_in(far)
    listed = Contact.objects.order_by(*RECENTLY_ACTIVE)
    assert [contact.pk for contact in response.context["page"].object_list] == offset_page(listed, 6, 3)
