import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from aicmo_site.testing.media import served
from crm.choices import RunStatus
from crm.models import Contact, ImportRun
from crm.tests.factories import ContactFactory, SegmentFactory, TagFactory

pytestmark = pytest.mark.django_db
# Session, user, permissions (2), the count, the page with requesters joined and the journeys the upload form
# offers: whatever the number of runs.
QUERIES_PER_LIST_PAGE = 7


@pytest.fixture
def marketer(client, make_user):
    client.force_login(make_user("mara", role="Marketer"))
    return client


def test_upload_preview_pick_columns_then_import_with_progress_and_error_report(marketer):
    answer = marketer.post("/contacts/imports/", {
        "file": SimpleUploadedFile("fair.csv", b"E-mail;Given;Plan\nana@example.com;Ana;gold\nbroken;Bo;x\n"),
        "policy": "update", "tag": "fair",
    })
    run = ImportRun.objects.get()
    assert answer.status_code == 302 and answer.url == f"/contacts/imports/{run.pk}/mapping/"
    page = marketer.get(answer.url).content.decode()
    assert "Check the columns of fair.csv" in page and "ana@example.com" in page
    assert '<option value="email" selected>' in page  # E-mail recognised
    answer = marketer.post(answer.url, {"column_0": "email", "column_1": "first_name", "column_2": "custom:Plan"})
    assert answer.status_code == 302 and answer.url == f"/contacts/imports/{run.pk}/"
    contact = Contact.objects.get()
    assert (contact.first_name, contact.custom_fields) == ("Ana", {"Plan": "gold"})
    detail = marketer.get(answer.url).content.decode()
    assert "Completed" in detail and "Download the error report" in detail
    report = served(marketer, marketer.get(f"/contacts/imports/{run.pk}/errors/"))
    assert b"broken" in report.content


def test_a_mapping_without_email_is_shown_as_a_form_error(marketer):
    marketer.post("/contacts/imports/", {"file": SimpleUploadedFile("a.csv", b"email,name\na@example.com,A\n"),
                                         "policy": "update"})
    run = ImportRun.objects.get()
    answer = marketer.post(f"/contacts/imports/{run.pk}/mapping/", {"column_0": "", "column_1": "first_name"})
    assert answer.status_code == 200 and "No column is mapped to email" in answer.content.decode()
    assert ImportRun.objects.get().status == RunStatus.QUEUED


def test_a_bad_upload_is_a_form_error(marketer):
    answer = marketer.post("/contacts/imports/", {"file": SimpleUploadedFile("empty.csv", b"\n\n"), "policy": "update"})
    assert answer.status_code == 200 and "The file is empty." in answer.content.decode()
    assert not ImportRun.objects.exists()


def test_import_list_filters_sorts_paginates_and_has_an_empty_state(marketer, django_assert_num_queries):
    assert "No imports yet" in marketer.get("/contacts/imports/").content.decode()
    for name in ("one.csv", "two.csv", "three.csv"):
        marketer.post("/contacts/imports/", {"file": SimpleUploadedFile(name, b"email\na@example.com\n"),
                                             "policy": "update"})
    with django_assert_num_queries(QUERIES_PER_LIST_PAGE):
        page = marketer.get("/contacts/imports/").content.decode()
    assert all(name in page for name in ("one.csv", "two.csv", "three.csv"))
    page = marketer.get("/contacts/imports/?q=two&status=queued&sort=name").content.decode()
    assert "two.csv" in page and "one.csv" not in page
    assert "match these filters" in marketer.get("/contacts/imports/?status=failed").content.decode()


def test_cancel_a_waiting_import(marketer):
    marketer.post("/contacts/imports/", {"file": SimpleUploadedFile("a.csv", b"email\na@example.com\n"),
                                         "policy": "update"})
    run = ImportRun.objects.get()
    marketer.post(f"/contacts/imports/{run.pk}/cancel/")
    assert ImportRun.objects.get().status == RunStatus.CANCELED


def test_export_page_downloads_the_filtered_list(marketer):
    ContactFactory(email="vip@example.com", tags=[TagFactory(name="vip")])
    ContactFactory(email="other@example.com")
    segment = SegmentFactory(rules={"op": "and", "rules": [{"field": "tags", "operator": "any", "value": ["vip"]}]})
    body = b"".join(marketer.get(f"/contacts/export/?segment={segment.pk}").streaming_content).decode()
    assert "vip@example.com" in body and "other@example.com" not in body
    assert marketer.get("/contacts/export/?segment=999").status_code == 400


def test_privacy_page_downloads_the_data_and_erases_after_confirmation(marketer):
    contact = ContactFactory(email="ana@example.com", first_name="Ana")
    data = marketer.get(f"/contacts/privacy/{contact.pk}/data.json")
    assert data.json()["contact"]["first_name"] == "Ana"
    wrong = marketer.post(f"/contacts/privacy/{contact.pk}/", {"confirm": "nope@example.com"})
    assert "Type the contact" in wrong.content.decode() and Contact.objects.get().erased_at is None
    marketer.post(f"/contacts/privacy/{contact.pk}/", {"confirm": "ana@example.com"})
    assert Contact.objects.get().erased_at is not None


def test_analysts_see_imports_but_cannot_upload_or_erase(client, make_user):
    client.force_login(make_user("ann", role="Analyst"))
    assert client.get("/contacts/imports/").status_code == 200
    assert client.post("/contacts/imports/", {"policy": "update"}).status_code == 403
    contact = ContactFactory()
    assert client.post(f"/contacts/privacy/{contact.pk}/", {"confirm": contact.email}).status_code == 403
    assert Contact.objects.get().erased_at is None


def test_a_gif_uploaded_as_csv_is_refused_on_the_page_and_leaves_no_import(marketer):
    gif = b"GIF89a\x01\x00\x01\x00\x80\x00\x00\xff\xff\xff\x00\x00\x00!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00;"
    answer = marketer.post("/contacts/imports/", {"file": SimpleUploadedFile("people.csv", gif), "policy": "update"})
    assert answer.status_code == 200 and "This is not a CSV file" in answer.content.decode()
    assert not ImportRun.objects.exists()
