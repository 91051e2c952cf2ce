"""Two machines sharing one bucket: a file uploaded through the web process is seen by a worker in
another process with a MEDIA_ROOT of its own, and what the worker writes is handed out by the web
process; neither machine's disk keeps a file."""

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from aicmo_site.testing.media import served
from aicmo_site.testing.worker import wait_for
from crm.choices import RunStatus
from crm.models import ImportRun
from media.models import Rendition
from media.tests import images
from media.tests.factories import LibraryFactory


def files_under(folder) -> list:
    return [path for path in folder.rglob("*") if path.is_file()] if folder.exists() else []


@pytest.mark.worker
def test_an_upload_on_the_web_machine_is_rendered_and_imported_by_a_worker_on_another(
        make_media_bucket, qcluster, api_as, settings, tmp_path, client):
    bucket = make_media_bucket()
    settings.MEDIA_ROOT = tmp_path / "web"
    settings.CRM_IMPORT_INLINE_MAX_BYTES = 0  # the import goes to the worker too
    cluster = qcluster(AICMO_TEST_WORKER_MEDIA_ROOT=str(tmp_path / "worker"))
    marketer = api_as("Marketer")

    library = LibraryFactory()
    photo = images.jpeg_bytes(1400, 1000, gps=True)
    uploaded = marketer.post("/api/assets/", {"library": library.pk, "files": [images.upload(photo, "team.jpg")]},
                             format="multipart").json()["results"][0]
    asset_id = uploaded["asset"]["id"]
    imported = marketer.post("/api/imports/", {
        "file": SimpleUploadedFile("people.csv", b"email,first_name\nana@example.com,Ana\nbroken,Bo\n"),
        "mapping": '{"email": "email", "first_name": "first_name"}',
    }, format="multipart").json()
    assert imported["status"] == RunStatus.QUEUED, imported

    try:
        wait_for(lambda: Rendition.objects.filter(asset_id=asset_id).count() == 11, timeout=120,
                 message="the worker's renditions")
        run = wait_for(lambda: ImportRun.objects.filter(pk=imported["id"], status=RunStatus.COMPLETED).first(),
                       timeout=120, message="the worker's import")
    except AssertionError:
        raise AssertionError(cluster.output()[-3000:])

    keys = bucket.keys()
    assert {f"renditions/{asset_id}/thumbnail.jpg", f"renditions/{asset_id}/publish.jpg"} <= set(keys)
    assert run.file.name in keys and run.error_report.name in keys
    assert files_under(tmp_path / "web") == [] and files_under(tmp_path / "worker") == []

    thumbnail = served(client, Rendition.objects.get(asset_id=asset_id, preset="thumbnail").url)
    assert thumbnail.status_code == 200 and thumbnail.content.startswith(b"\xff\xd8")  # public, anonymous
    original = served(marketer, marketer.get(f"/api/assets/{asset_id}/original/"))
    assert original.status_code == 200 and original.content == photo
    report = served(marketer, marketer.get(f"/api/imports/{run.pk}/errors/"))
    rows = list(csv.reader(io.StringIO(report.content.decode("utf-8-sig"))))
    assert (report.status_code, rows[1][:3]) == (200, ["3", "email", "broken"])
