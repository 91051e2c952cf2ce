"""Static lists of contacts: services, the API, the back-office pages and the contact list's bulk action."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from aicmo_site.errors import ConflictError
from crm import services
from crm.models import Contact, ContactList, ContactListMember
from crm.privacy import contact_erase
from crm.tests.factories import ContactFactory, ContactListFactory, TagFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def people():
    vip = TagFactory(name="vip")
    return [ContactFactory(email=f"p{n}@acme.io", tags=[vip] if n < 3 else []) for n in range(5)]


@pytest.fixture
def marketer(client, make_user):
    client.force_login(make_user("mia", role="Marketer"))
    return client


def queries(client, url):
    client.get(url)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured)


# ---- services ---------------------------------------------------------------------------------


def test_adding_everyone_matching_is_one_statement_and_never_adds_twice(people, make_user, django_assert_num_queries):
    mia = make_user("mia")
    guests = services.contact_list_create(name="Guests", by=mia)
    vip = Contact.objects.filter(tags__name="vip")
    # Savepoint, INSERT … SELECT, the list's changed time, the one audit entry of the operation, release.
    with django_assert_num_queries(5):
        assert services.contact_list_add(contact_list=guests, contacts=vip, by=mia) == 3
    assert services.contact_list_add(contact_list=guests, contacts=Contact.objects.all(), by=mia) == 2
    assert services.contact_list_add(contact_list=guests, contacts=people) == 0
    member = ContactListMember.objects.get(contact_list=guests, contact=people[0])
    assert member.added_by == mia and member.added_at is not None
    assert guests.memberships.count() == 5


def test_erased_people_are_not_added_and_erasure_takes_people_off_every_list(people, make_user):
    guests = ContactListFactory(members=people)
    other = ContactListFactory(members=people[:1])
    contact_erase(contact=people[0], by=make_user("dpo"), confirm="p0@acme.io")
    assert not ContactListMember.objects.filter(contact=people[0]).exists()
    assert services.contact_list_add(contact_list=other, contacts=[people[0]]) == 0
    assert guests.memberships.count() == 4


def test_remove_names_and_rename_conflicts(people):
    guests = ContactListFactory(name="Guests", members=people)
    ContactListFactory(name="Staff")
    assert services.contact_list_remove(contact_list=guests, contacts=people[:2]) == 2
    with pytest.raises(ConflictError):
        services.contact_list_update(contact_list=guests, name="staff")
    with pytest.raises(ConflictError):
        services.contact_list_create(name=" GUESTS ")
    assert services.contact_list_update(contact_list=guests, name="Guests 2026").name == "Guests 2026"
    services.contact_list_delete(contact_list=guests)
    assert Contact.objects.count() == 5 and not ContactListMember.objects.exists()


# ---- API --------------------------------------------------------------------------------------


def test_api_lists_with_sizes_in_fixed_queries(api_as, people, django_assert_num_queries):
    api = api_as("Marketer")
    ContactListFactory(name="Guests", members=people)
    few = queries(api, "/api/lists/")
    for n in range(5):
        ContactListFactory(name=f"More {n}", members=people[:n])
    with django_assert_num_queries(few):
        data = api.get("/api/lists/?search=guests").data
    assert [(row["name"], row["size"]) for row in data["results"]] == [("Guests", 5)]
    guests = ContactList.objects.get(name="Guests")
    members_url = f"/api/lists/{guests.pk}/members/"
    few = queries(api, members_url)
    services.contact_list_add(contact_list=ContactListFactory(), contacts=people)
    more = ContactFactory()
    services.contact_list_add(contact_list=guests, contacts=[more])
    with django_assert_num_queries(few):
        members = api.get(members_url).data
    assert members["count"] == 6 and members["results"][0]["email"] == more.email


def test_api_creates_renames_adds_by_filter_and_removes(api_as, people):
    api = api_as("Marketer")
    created = api.post("/api/lists/", {"name": "Guests", "description": "Came to the webinar"}, format="json")
    assert created.status_code == 201 and created.data["size"] == 0
    url = f"/api/lists/{created.data['id']}/"
    added = api.post(f"{url}add/", {"filter": {"tag": "vip"}, "contact_ids": [people[4].pk]}, format="json")
    assert added.status_code == 200 and added.data == {"added": 4, "size": 4}
    again = api.post(f"{url}add/", {"filter": {"tag": "vip"}}, format="json")
    assert again.data == {"added": 0, "size": 4}
    removed = api.post(f"{url}remove/", {"contact_ids": [people[0].pk, people[3].pk]}, format="json")
    assert removed.data == {"removed": 1, "size": 3}
    assert api.patch(url, {"name": "Webinar guests"}, format="json").data["name"] == "Webinar guests"
    assert api.delete(url).status_code == 204 and Contact.objects.count() == 5


@pytest.mark.parametrize(("body", "field"), [
    ({}, "contact_ids"),
    ({"contact_ids": [2**63]}, "contact_ids"),
    ({"contact_ids": list(range(1, 1002))}, "contact_ids"),
    ({"filter": {"colour": "red"}}, "filter"),
    ({"filter": {"lifecycle_status": "sleeping"}}, "filter"),
    ({"segment": 999}, "segment"),
])
def test_api_refuses_bad_selections_with_field_errors(api_as, body, field):
    api = api_as("Marketer")
    guests = ContactListFactory()
    response = api.post(f"/api/lists/{guests.pk}/add/", body, format="json")
    assert response.status_code == 400 and field in response.data["fields"]


def test_api_refuses_a_taken_name_and_an_analyst_only_reads(api_as):
    ContactListFactory(name="Guests")
    taken = api_as("Marketer").post("/api/lists/", {"name": "guests"}, format="json")
    assert taken.status_code == 409 and "name" in taken.data["extra"]["fields"]
    analyst = api_as("Analyst")
    assert analyst.get("/api/lists/").status_code == 200
    guests = ContactList.objects.get()
    assert analyst.post(f"/api/lists/{guests.pk}/add/", {"contact_ids": [1]}, format="json").status_code == 403


# ---- pages ------------------------------------------------------------------------------------


def test_lists_page_counts_searches_and_keeps_its_query_count(marketer, people, django_assert_num_queries):
    ContactListFactory(name="Guests", members=people)
    few = queries(marketer, "/contacts/lists/")
    for n in range(5):
        ContactListFactory(name=f"Speakers {n}", members=people[:n])
    with django_assert_num_queries(few):
        page = marketer.get("/contacts/lists/").content.decode()
    assert "Showing 1–6 of 6 lists" in page and "<td>5</td>" in page
    found = marketer.get("/contacts/lists/?q=speakers+3").content.decode()
    assert "Speakers 3" in found and "Guests" not in found


def test_list_page_shows_members_with_who_added_them_in_fixed_queries(marketer, people, make_user,
                                                                      django_assert_num_queries):
    guests = ContactListFactory(name="Guests")
    services.contact_list_add(contact_list=guests, contacts=people[:1], by=make_user("ops"))
    url = f"/contacts/lists/{guests.pk}/"
    few = queries(marketer, url)
    services.contact_list_add(contact_list=guests, contacts=people)
    with django_assert_num_queries(few):
        page = marketer.get(url).content.decode()
    assert "Showing 1–5 of 5 members" in page and "<td>ops</td>" in page and "p4@acme.io" in page
    assert "p1@acme.io" not in marketer.get(f"{url}?q=p0").content.decode()


def test_create_rename_remove_and_delete_after_confirming(marketer, people):
    created = marketer.post("/contacts/lists/", {"name": "Guests", "description": ""})
    guests = ContactList.objects.get()
    assert created["Location"] == f"/contacts/lists/{guests.pk}/"
    taken = marketer.post("/contacts/lists/", {"name": "guests"}).content.decode()
    assert "A list named &#x27;guests&#x27; already exists." in taken or "already exists" in taken
    services.contact_list_add(contact_list=guests, contacts=people)
    marketer.post(f"/contacts/lists/{guests.pk}/", {"name": "Webinar guests", "description": "Spring"})
    marketer.post(f"/contacts/lists/{guests.pk}/remove/", {"contact": [people[0].pk, people[1].pk]})
    guests.refresh_from_db()
    assert guests.name == "Webinar guests" and guests.memberships.count() == 3
    ask = marketer.get(f"/contacts/lists/{guests.pk}/delete/").content.decode()
    assert "3 contacts on it stay in your contacts" in ask and ContactList.objects.exists()
    assert marketer.post(f"/contacts/lists/{guests.pk}/delete/")["Location"] == "/contacts/lists/"
    assert not ContactList.objects.exists() and Contact.objects.count() == 5


def test_an_analyst_sees_lists_but_no_editing(client, make_user, people):
    client.force_login(make_user("numbers", role="Analyst"))
    guests = ContactListFactory(members=people)
    page = client.get(f"/contacts/lists/{guests.pk}/").content.decode()
    assert "p0@acme.io" in page and 'id="list-edit"' not in page and 'id="list-delete"' not in page
    assert 'id="list-new"' not in client.get("/contacts/lists/").content.decode()
    assert client.post(f"/contacts/lists/{guests.pk}/delete/").status_code == 403


# ---- the contact list's bulk action ----------------------------------------------------------


def bulk(client, **data):
    return client.post("/contacts/bulk/", {"next": "/contacts/?tag=vip", **data}, follow=True)


def test_add_all_matching_to_a_new_list_made_in_place_then_to_an_existing_one(marketer, people):
    done = bulk(marketer, action="add_to_list", scope="all", query="tag=vip", list_name="Webinar guests")
    assert "List “Webinar guests” created; 3 added" in done.content.decode()
    guests = ContactList.objects.get()
    bulk(marketer, action="add_to_list", scope="selected", contact=[people[0].pk, people[4].pk],
         list_name="webinar GUESTS")
    assert sorted(guests.members.values_list("email", flat=True)) == [
        "p0@acme.io", "p1@acme.io", "p2@acme.io", "p4@acme.io"]
    bulk(marketer, action="remove_from_list", scope="selected", contact=[people[4].pk], list_name="Webinar guests")
    assert guests.memberships.count() == 3
    page = marketer.get(f"/contacts/?list={guests.pk}").content.decode()
    assert "Showing 1–3 of 3 contacts" in page and '<option value="Webinar guests">' in page


def test_the_bulk_action_names_the_missing_list(marketer, people):
    page = bulk(marketer, action="add_to_list", scope="all", query="", list_name=" ").content.decode()
    assert "Name the list" in page and not ContactList.objects.exists()
    page = bulk(marketer, action="remove_from_list", scope="all", query="", list_name="Nope").content.decode()
    assert "There is no list named “Nope”." in page
