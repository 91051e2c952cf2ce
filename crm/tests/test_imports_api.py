import csv
import io
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from aicmo_site.testing.media import served
from crm.choices import RunStatus
from crm.models import Contact, ImportRun
from crm.tests.factories import ContactFactory

pytestmark = pytest.mark.django_db


def csv_file(text: str, name: str = "people.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, text.encode(), content_type="text/csv")


def test_upload_with_mapping_policy_and_tag_imports_and_reports_counts(api_as):
    api = api_as("Marketer")
    ContactFactory(email="old@example.com", first_name="Old")
    answer = api.post("/api/imports/", {
        "file": csv_file("Mail,Name\nold@example.com,Changed\nnew@example.com,New\nbroken,X\n"),
        "mapping": json.dumps({"Mail": "email", "Name": "first_name"}),
        "policy": "skip_existing", "tag": "fair",
    }, format="multipart")
    assert answer.status_code == 201, answer.json()
    body = answer.json()
    assert (body["status"], body["progress"], body["created_count"], body["skipped_count"], body["failed_count"]) \
        == (RunStatus.COMPLETED, 100, 1, 1, 1)
    assert body["requested_by"] == api.user.username
    assert Contact.objects.get(email="old@example.com").first_name == "Old"
    assert Contact.objects.filter(tags__name="fair").count() == 2

    status = api.get(f"/api/imports/{body['id']}/").json()
    assert status["processed_rows"] == 3 and status["error_report_url"].endswith(f"/api/imports/{body['id']}/errors/")
    report = served(api, api.get(f"/api/imports/{body['id']}/errors/"))
    assert report.status_code == 200 and report["Content-Type"] == "text/csv"
    rows = list(csv.reader(io.StringIO(report.content.decode("utf-8-sig"))))
    assert rows[0] == ["line", "column", "value", "reason", "Mail", "Name"]
    assert rows[1][:3] == ["4", "Mail", "broken"] and rows[1][4:] == ["broken", "X"]


def test_an_unknown_field_in_the_mapping_is_a_400_naming_the_column(api_as):
    answer = api_as("Marketer").post("/api/imports/", {
        "file": csv_file("Mail\na@example.com\n"), "mapping": json.dumps({"Mail": "salary"}),
    }, format="multipart")
    assert answer.status_code == 400
    assert answer.json()["code"] == "invalid_mapping"
    assert "Mail" in answer.json()["extra"]["fields"]
    assert not ImportRun.objects.exists()


def test_missing_file_and_bad_policy_are_field_errors(api_as):
    answer = api_as("Marketer").post("/api/imports/", {"policy": "merge-somehow"}, format="multipart")
    assert answer.status_code == 400
    assert set(answer.json()["fields"]) == {"file", "policy"}


def test_large_uploads_are_queued_for_the_worker(api_as, settings, django_capture_on_commit_callbacks):
    settings.CRM_IMPORT_INLINE_MAX_BYTES = 10
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        answer = api_as("Marketer").post("/api/imports/", {"file": csv_file("email\na@example.com\n")},
                                         format="multipart")
    assert answer.status_code == 201
    assert answer.json()["status"] == RunStatus.QUEUED and len(callbacks) == 1
    assert not Contact.objects.exists()


def test_preview_shows_columns_rows_format_and_automatic_mapping(api_as):
    answer = api_as("Marketer").post("/api/imports/preview/", {
        "file": csv_file("E-mail;Prénom;Company Name\na@example.com;Zoë;Acme\n")}, format="multipart")
    assert answer.status_code == 200
    assert answer.json() == {
        "headers": ["E-mail", "Prénom", "Company Name"], "rows": [["a@example.com", "Zoë", "Acme"]],
        "mapping": {"E-mail": "email", "Prénom": "", "Company Name": "company"},
        "encoding": "utf-8", "delimiter": ";",
    }


def test_analysts_can_follow_imports_but_not_upload(api_as):
    analyst = api_as("Analyst")
    assert analyst.get("/api/imports/").status_code == 200
    assert analyst.post("/api/imports/", {"file": csv_file("email\na@example.com\n")},
                        format="multipart").status_code == 403


def test_import_list_uses_a_fixed_number_of_queries(api_as, django_assert_num_queries):
    api = api_as("Marketer")
    for n in range(3):
        api.post("/api/imports/", {"file": csv_file(f"email\np{n}@example.com\n")}, format="multipart")
    with django_assert_num_queries(2):  # the count, then the page with its requesters joined
        answer = api.get("/api/imports/?ordering=-created_at")
    assert answer.json()["count"] == 3


def test_cancel_a_queued_import_and_refuse_cancelling_it_twice(api_as, settings):
    settings.CRM_IMPORT_INLINE_MAX_BYTES = 10
    api = api_as("Marketer")
    run_id = api.post("/api/imports/", {"file": csv_file("email\na@example.com\n")}, format="multipart").json()["id"]
    assert api.post(f"/api/imports/{run_id}/cancel/").json()["status"] == RunStatus.CANCELED
    again = api.post(f"/api/imports/{run_id}/cancel/")
    assert again.status_code == 409 and again.json()["code"] == "invalid_transition"


def test_error_report_of_a_clean_import_is_a_404(api_as):
    api = api_as("Marketer")
    run_id = api.post("/api/imports/", {"file": csv_file("email\na@example.com\n")}, format="multipart").json()["id"]
    assert api.get(f"/api/imports/{run_id}/errors/").status_code == 404


@pytest.mark.parametrize("content, code", [
    (b"GIF89a\x01\x00\x01\x00\x80\x00\x00\xff\xff\xff\x00\x00\x00!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00;",
     "not_csv"),
    (b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n", "invalid_mapping"),
    (b"name,city\nAna,Lyon\n", "invalid_mapping"),
], ids=["gif", "pdf", "no-email-column"])
def test_an_upload_refused_at_validation_leaves_no_run_behind(api_as, content, code):
    answer = api_as("Marketer").post("/api/imports/", {"file": SimpleUploadedFile("people.csv", content)},
                                     format="multipart")
    assert answer.status_code == 400 and answer.json()["code"] == code
    assert not ImportRun.objects.exists()


def test_a_nul_byte_fails_its_row_only_and_the_report_names_it(api_as):
    api = api_as("Marketer")
    answer = api.post("/api/imports/", {
        "file": SimpleUploadedFile("people.csv", b"email,first_name\nana@example.com,Ana\nbo@example.com,B\x00o\n"),
    }, format="multipart")
    body = answer.json()
    assert (answer.status_code, body["status"], body["created_count"], body["failed_count"]) \
        == (201, RunStatus.COMPLETED, 1, 1)
    assert "UTF8" not in body["error"]
    report = served(api, api.get(f"/api/imports/{body['id']}/errors/")).content.decode("utf-8-sig")
    assert "NUL character" in report and "\x00" not in report
