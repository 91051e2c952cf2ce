from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.utils import timezone

from aicmo_site.testing.worker import wait_for
from crm.choices import RunStatus
from crm.imports import import_run_create, import_run_start, import_runs_resume
from crm.models import Contact, ImportRun


@pytest.mark.worker
def test_a_large_import_runs_in_the_background_on_a_real_worker(qcluster, settings):
    settings.CRM_IMPORT_INLINE_MAX_BYTES = 0
    content = "email,first_name,tags\n" + "".join(f"p{n}@example.com,P{n},batch\n" for n in range(300)) + "bad,x,\n"
    run = import_run_create(upload=ContentFile(content.encode(), name="big.csv"))
    run = import_run_start(run=run)
    assert run.status == RunStatus.QUEUED
    qcluster(CRM_IMPORT_CHUNK_ROWS="50")
    done = wait_for(lambda: ImportRun.objects.filter(pk=run.pk, status__in=[RunStatus.COMPLETED, RunStatus.FAILED])
                    .first(), timeout=180, message="the import to finish")
    assert done.error == ""
    assert (done.status, done.processed_rows, done.created_count, done.failed_count) == (RunStatus.COMPLETED, 301,
                                                                                         300, 1)
    assert Contact.objects.filter(tags__name="batch").count() == 300
    shared = done.run
    assert (shared.kind, shared.status, shared.done, shared.total, shared.progress) == ("import", "completed", 301,
                                                                                       301, 100)
    assert shared.result == {"created": 300, "updated": 0, "skipped": 0, "failed": 1}
    assert shared.started_at and shared.finished_at and shared.link == f"/contacts/imports/{run.pk}/"


@pytest.mark.worker
def test_an_import_whose_worker_was_killed_is_resumed_from_its_last_chunk(qcluster, settings):
    """A task taken from Redis dies with its worker; the scheduled resume hands the run on, and the rows
    already committed are neither written twice nor lost."""
    settings.CRM_IMPORT_INLINE_MAX_BYTES = 0
    rows = 20_000
    content = "email,first_name\n" + "".join(f"r{n}@example.com,R{n}\n" for n in range(rows))
    run = import_run_start(run=import_run_create(upload=ContentFile(content.encode(), name="big.csv")))
    first = qcluster(CRM_IMPORT_CHUNK_ROWS="250")
    part = wait_for(lambda: ImportRun.objects.filter(pk=run.pk, processed_rows__gt=0).first(), timeout=120,
                    interval=0.005, message="the first chunk")
    first.kill()
    part.refresh_from_db()
    assert part.status == RunStatus.RUNNING and 0 < part.processed_rows < rows, "killed too late to test a resume"

    settings.CRM_IMPORT_RESUME_AFTER_SECONDS = 1
    assert import_runs_resume(now=timezone.now() + timedelta(seconds=2)) == [run.pk]
    qcluster(CRM_IMPORT_CHUNK_ROWS="250")
    done = wait_for(lambda: ImportRun.objects.filter(pk=run.pk, status__in=[RunStatus.COMPLETED, RunStatus.FAILED])
                    .first(), timeout=180, message="the resumed import to finish")

    assert (done.status, done.processed_rows, done.created_count, done.failed_count) == (RunStatus.COMPLETED, rows,
                                                                                         rows, 0)
    assert Contact.objects.filter(email__endswith="@example.com").count() == rows
    assert import_runs_resume(now=timezone.now() + timedelta(hours=1)) == []
