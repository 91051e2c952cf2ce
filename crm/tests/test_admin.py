import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME

from crm.models import ContactList, EnrichmentRun, Suppression
from crm.tests.factories import CompanyFactory, ContactFactory, ContactListFactory, EngagementEventFactory, TagFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client_of(client, make_user):
    user = make_user("boss", is_staff=True, is_superuser=True)
    client.force_login(user)
    return client


def test_contact_list_filters_and_search(admin_client_of):
    ContactFactory(email="ann@acme.io", company=CompanyFactory(name="Acme"), lifecycle_status="engaged")
    ContactFactory(email="bob@else.io")
    page = admin_client_of.get("/admin/crm/contact/?lifecycle_status__exact=engaged&q=acme")
    assert page.status_code == 200
    assert b"ann@acme.io" in page.content and b"bob@else.io" not in page.content


def test_enrich_action_queues_a_run(admin_client_of, django_capture_on_commit_callbacks, enrichment_account):
    contacts = ContactFactory.create_batch(2)
    with django_capture_on_commit_callbacks():
        response = admin_client_of.post("/admin/crm/contact/", {
            "action": "enrich_contacts", ACTION_CHECKBOX_NAME: [c.pk for c in contacts]}, follow=True)
    assert b"queued 2 contacts" in response.content
    assert EnrichmentRun.objects.get().total == 2


def test_tag_action_asks_for_tags_then_applies_them(admin_client_of):
    contacts = ContactFactory.create_batch(2)
    ids = [c.pk for c in contacts]
    form = admin_client_of.post("/admin/crm/contact/", {"action": "tag_contacts", ACTION_CHECKBOX_NAME: ids})
    assert b"2 contacts selected" in form.content
    admin_client_of.post("/admin/crm/contact/", {"action": "tag_contacts", ACTION_CHECKBOX_NAME: ids,
                                                 "apply": "Apply", "tags": "fair, vip"})
    assert set(contacts[0].tags.values_list("name", flat=True)) == {"fair", "vip"}


def test_suppress_action_after_confirmation(admin_client_of):
    contact = ContactFactory(email="stop@acme.io")
    admin_client_of.post("/admin/crm/contact/", {"action": "suppress_contacts", ACTION_CHECKBOX_NAME: [contact.pk]})
    assert not Suppression.objects.exists()
    admin_client_of.post("/admin/crm/contact/", {"action": "suppress_contacts", ACTION_CHECKBOX_NAME: [contact.pk],
                                                 "apply": "Apply", "reason": "manual"})
    assert Suppression.objects.get().value == "stop@acme.io"


def test_contact_page_shows_the_timeline_and_edits_through_the_service(admin_client_of):
    contact = ContactFactory(email="ann@acme.io", tags=[TagFactory(name="vip")])
    EngagementEventFactory(contact=contact, kind="clicked")
    page = admin_client_of.get(f"/admin/crm/contact/{contact.pk}/change/")
    assert page.status_code == 200 and b"Clicked" in page.content
    other_pages = ["company", "tag", "segment", "suppression", "enrichmentrun", "lifecycletransition", "importrun"]
    for name in other_pages:
        assert admin_client_of.get(f"/admin/crm/{name}/").status_code == 200


def test_export_action_streams_csv(admin_client_of):
    contact = ContactFactory(email="ann@acme.io")
    response = admin_client_of.post("/admin/crm/contact/", {"action": "export_contacts",
                                                             ACTION_CHECKBOX_NAME: [contact.pk]})
    assert response["Content-Type"].startswith("text/csv")
    assert b"ann@acme.io" in b"".join(response.streaming_content)


def test_lists_in_the_admin_show_sizes_and_go_through_the_services(admin_client_of):
    guests = ContactListFactory(name="Guests", members=[ContactFactory(), ContactFactory()])
    page = admin_client_of.get("/admin/crm/contactlist/").content.decode()
    assert "Guests" in page and '<td class="field-size">2</td>' in page
    taken = admin_client_of.post("/admin/crm/contactlist/add/", {"name": "guests", "description": ""})
    assert taken.status_code == 200 and "already exists" in taken.content.decode()
    admin_client_of.post("/admin/crm/contactlist/add/", {"name": "Speakers", "description": ""})
    assert ContactList.objects.get(name="Speakers").created_by is not None
    admin_client_of.post(f"/admin/crm/contactlist/{guests.pk}/delete/", {"post": "yes"})
    assert list(ContactList.objects.values_list("name", flat=True)) == ["Speakers"]
