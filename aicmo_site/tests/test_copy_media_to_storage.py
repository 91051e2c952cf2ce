"""manage.py copy_media_to_storage: a one-machine site's MEDIA_ROOT into the bucket, safe to repeat."""

import os
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError


@pytest.fixture
def media_folder(tmp_path):
    folder = tmp_path / "media"
    for name, content in {"assets/ab/abc.jpg": b"jpeg bytes", "renditions/4/publish.jpg": b"publish",
                          "crm/imports/people.csv": b"email\nana@example.com\n"}.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(content)
    return folder


def run(*args) -> str:
    out = StringIO()
    call_command("copy_media_to_storage", *args, stdout=out, stderr=out)
    return out.getvalue()


def test_a_dry_run_lists_the_files_and_copies_none(make_media_bucket, media_folder):
    bucket = make_media_bucket()
    said = run("--source", str(media_folder), "--dry-run")
    assert "3 files in" in said and "0 already in the bucket, 3 to copy" in said
    assert "would copy crm/imports/people.csv" in said and bucket.keys() == []


def test_the_folder_is_copied_once_and_a_second_run_copies_only_what_changed(make_media_bucket, media_folder):
    bucket = make_media_bucket()
    said = run("--source", str(media_folder))
    assert "3/3 files (100%)" in said and "Copied 3 files; 0 failed." in said
    assert bucket.keys() == ["assets/ab/abc.jpg", "crm/imports/people.csv", "renditions/4/publish.jpg"]
    assert bucket.read("assets/ab/abc.jpg") == b"jpeg bytes"

    (media_folder / "renditions/4/publish.jpg").write_bytes(b"a new publish rendition")
    said = run("--source", str(media_folder))
    assert "2 already in the bucket, 1 to copy" in said and "Copied 1 files" in said
    assert bucket.read("renditions/4/publish.jpg") == b"a new publish rendition"
    assert len(bucket.keys()) == 3  # replaced under its name, not copied beside it


def test_a_file_the_bucket_refuses_is_reported_and_the_rest_copied(make_media_bucket, media_folder):
    bucket = make_media_bucket()
    # A name written in Latin-1 long ago: not UTF-8, so it cannot be a key.
    latin1 = os.fsdecode(os.fsencode(media_folder / "assets") + b"/caf\xe9.jpg")
    with open(latin1, "wb") as handle:
        handle.write(b"x")
    out = StringIO()
    with pytest.raises(CommandError, match="1 files were not copied; run the command again"):
        call_command("copy_media_to_storage", "--source", str(media_folder), stdout=out, stderr=out)
    assert "caf" in out.getvalue() and "not copied" in out.getvalue() and "Copied 3 files; 1 failed." in out.getvalue()
    assert len(bucket.keys()) == 3


def test_without_a_bucket_it_says_what_to_set(media_folder, settings):
    settings.STORAGES = {**settings.STORAGES, "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"}}
    with pytest.raises(CommandError, match="set MEDIA_STORAGE_URL"):
        run("--source", str(media_folder))
