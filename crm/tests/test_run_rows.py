"""Imports and enrichment runs keep their own workflow; their row among all background work follows
every move and every chunk, in the same transaction."""

import pytest
from django.core.files.base import ContentFile

from aicmo_site.models import BackgroundRun
from crm import services
from crm.imports import import_run_cancel, import_run_create, import_run_start
from crm.tests.factories import ContactFactory
from crm.tests.providers import providers_set_up

pytestmark = pytest.mark.django_db


def test_an_import_has_its_row_from_upload_to_the_end(make_user):
    ann = make_user("ann")
    run = import_run_create(upload=ContentFile(b"email\nann@example.com\nbad\n", name="leads.csv"),
                            original_name="leads.csv", by=ann)
    shared = BackgroundRun.objects.get(pk=run.run_id)
    assert (shared.kind, shared.label, shared.status, shared.requested_by, shared.total) == (
        "import", "Import of leads.csv", "queued", ann, 2)

    import_run_start(run=run, background=False)

    shared.refresh_from_db()
    assert (shared.status, shared.done, shared.progress, shared.error) == ("completed", 2, 100, "")
    assert shared.result == {"created": 1, "updated": 0, "skipped": 0, "failed": 1}


def test_a_canceled_import_is_canceled_among_all_background_work(make_user):
    run = import_run_create(upload=ContentFile(b"email\nann@example.com\n", name="a.csv"))
    import_run_cancel(run=run, by=make_user("bob"))
    shared = BackgroundRun.objects.get(pk=run.run_id)
    assert (shared.status, shared.error) == ("canceled", "Canceled by bob.") and shared.finished_at


def test_an_enrichment_run_has_its_row_with_its_figures(httpserver):
    ContactFactory(email="ann@acme.io")
    ContactFactory(email="dead@acme.io")
    providers_set_up(httpserver)
    run = services.enrichment_run_create(all_new=True, enqueue=False)
    shared = BackgroundRun.objects.get(pk=run.run_id)
    assert (shared.kind, shared.label, shared.status, shared.total, shared.done) == (
        "enrichment", "Enrichment of all new contacts", "queued", 2, 0)

    services.enrichment_run_process(run_id=run.pk)

    shared.refresh_from_db()
    assert (shared.status, shared.done, shared.progress) == ("completed", 2, 100)
    assert shared.result["verified"] == 2


def test_the_import_api_names_the_run_to_follow(api_as):
    client = api_as("Marketer")
    answer = client.post("/api/imports/", {"file": ContentFile(b"email\nann@example.com\n", name="a.csv")},
                         format="multipart")
    shared = answer.json()["background_run"]
    assert answer.status_code == 201 and shared == BackgroundRun.objects.get(kind="import").pk
    assert client.get(f"/api/runs/{shared}/").json()["status"] == "completed"
