import pytest
from django.core.management import CommandError, call_command

from crm.models import Contact
from crm.tests.factories import ContactFactory

pytestmark = pytest.mark.django_db


def write(tmp_path, text, name="people.csv", encoding="utf-8"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def test_command_imports_with_tag_and_hand_mapping_printing_progress_and_a_summary(tmp_path, capsys, settings):
    settings.CRM_IMPORT_CHUNK_ROWS = 1
    path = write(tmp_path, "Mail;Plan;City\nana@example.com;gold;Köln\nbad;silver;\n", encoding="latin-1")
    call_command("import_contacts", str(path), "--tag", "fair", "--map", "Mail=email", "--map", "Plan=custom:plan")
    out = capsys.readouterr().out
    assert "Plan → custom:plan" in out and "1 rows (50%)" in out and "2 rows (100%)" in out
    assert "Completed: 2 rows, 1 created, 0 updated, 0 skipped, 1 failed." in out
    assert "Error report:" in out
    contact = Contact.objects.get()
    assert (contact.city, contact.custom_fields, list(contact.tags.values_list("name", flat=True))) == \
        ("Köln", {"plan": "gold"}, ["fair"])


def test_skip_existing_leaves_stored_contacts_alone(tmp_path):
    ContactFactory(email="ana@example.com", first_name="Ana")
    call_command("import_contacts", str(write(tmp_path, "email,first_name\nana@example.com,X\n")), "--skip-existing")
    assert Contact.objects.get().first_name == "Ana"


@pytest.mark.parametrize("content,message", [
    ("", "The file is empty."),
    ("name,city\nAda,Paris\n", "No column is mapped to email"),
])
def test_a_bad_file_stops_with_a_message(tmp_path, content, message):
    with pytest.raises(CommandError, match=message):
        call_command("import_contacts", str(write(tmp_path, content)))
    assert not Contact.objects.exists()


def test_a_missing_file_or_a_malformed_map_stops_with_a_message(tmp_path):
    with pytest.raises(CommandError, match="No such file"):
        call_command("import_contacts", str(tmp_path / "nope.csv"))
    with pytest.raises(CommandError, match="must look like"):
        call_command("import_contacts", str(write(tmp_path, "email\na@example.com\n")), "--map", "email")
    with pytest.raises(CommandError, match="no column 'Nope'"):
        call_command("import_contacts", str(write(tmp_path, "email\na@example.com\n")), "--map", "Nope=city")
