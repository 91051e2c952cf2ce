"""The two-connection path of PostgreSQL imports (copy_path.Stager): a background import of several
chunks COPYs the next chunk on a second connection while the first merges the current one. These
tests commit for real (transaction=True), as a worker's import does."""

import pytest
from django.core.files.base import ContentFile
from django.db import connection, transaction

from crm.choices import ImportPolicy, RunStatus
from crm.imports import copy_path, import_run_create, import_run_execute
from crm.imports.run import UNEXPECTED_FAILURE
from crm.models import Company, Contact, ImportRun

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the COPY path is PostgreSQL's"),
    pytest.mark.django_db(transaction=True),
]


def _create(content: str, **options) -> ImportRun:
    return import_run_create(upload=ContentFile(content.encode(), name="contacts.csv"), **options)


def _people(count: int, *, first_name: str = "Ann") -> str:
    return "email,first_name,tags,company\n" + "".join(
        f"p{n}@d{n % 3}.example,{first_name}{n},t{n % 2};all,D{n % 3}\n" for n in range(count))


def _stage_tables() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT tablename FROM pg_tables WHERE starts_with(tablename, %s) ORDER BY 1",
                       [copy_path.STAGE_PREFIX])
        return [name for (name,) in cursor.fetchall()]


@pytest.fixture
def copies(monkeypatch) -> list[int]:
    """Rows of each chunk the second connection copied."""
    seen: list[int] = []
    original = copy_path.Stager.copy

    def spy(self, staged):
        seen.append(staged.rows)
        return original(self, staged)

    monkeypatch.setattr(copy_path.Stager, "copy", spy)
    return seen


def test_a_background_import_of_several_chunks_copies_them_on_a_second_connection(settings, copies):
    settings.CRM_IMPORT_CHUNK_ROWS = 2
    # More chunks than staging tables, so each table is written again after its chunk committed.
    run = import_run_execute(_create(_people(21) + "bad-email,X,,\n").pk)
    assert (run.status, run.processed_rows, run.created_count, run.failed_count) == (RunStatus.COMPLETED, 22, 21, 1)
    assert copies == [2] * 10 + [1]
    assert sorted(Contact.objects.values_list("first_name", flat=True)) == sorted(f"Ann{n}" for n in range(21))
    assert Contact.objects.filter(tags__name="all").count() == 21
    assert Contact.objects.filter(tags__name="t1").count() == 10
    assert Contact.objects.get(email="p4@d1.example").company == Company.objects.get(domain="d1.example")
    assert _stage_tables() == []

    # The same file again under "update": every contact updated through the staging tables too.
    copies.clear()
    run = import_run_execute(_create(_people(21, first_name="Bo"), policy=ImportPolicy.UPDATE).pk)
    assert (run.status, run.created_count, run.updated_count) == (RunStatus.COMPLETED, 0, 21)
    assert len(copies) == 11
    assert sorted(Contact.objects.values_list("first_name", flat=True)) == sorted(f"Bo{n}" for n in range(21))
    assert _stage_tables() == []


def test_an_import_inside_a_transaction_or_of_one_chunk_keeps_one_connection(settings, copies):
    settings.CRM_IMPORT_CHUNK_ROWS = 2
    with transaction.atomic():
        inside = import_run_execute(_create(_people(5)).pk)
    assert (inside.status, inside.created_count) == (RunStatus.COMPLETED, 5)
    settings.CRM_IMPORT_CHUNK_ROWS = 10
    small = import_run_execute(_create(_people(5, first_name="Cy").replace("@d", "@e")).pk)
    assert (small.status, small.created_count) == (RunStatus.COMPLETED, 5)
    assert copies == []
    assert Contact.objects.count() == 10


def test_staging_tables_left_by_ended_or_deleted_runs_are_dropped_when_a_run_starts(settings, copies):
    settings.CRM_IMPORT_CHUNK_ROWS = 2
    ended = _create(_people(1))
    ImportRun.objects.filter(pk=ended.pk).update(status=RunStatus.FAILED)
    running = _create(_people(1))
    ImportRun.objects.filter(pk=running.pk).update(status=RunStatus.RUNNING)
    left = [f"{copy_path.STAGE_PREFIX}{ended.pk}_dead_0", f"{copy_path.STAGE_PREFIX}{running.pk}_live_0",
            f"{copy_path.STAGE_PREFIX}{running.pk + 1000}_gone_1"]
    with connection.cursor() as cursor:
        for name in left:
            cursor.execute(f"CREATE UNLOGGED TABLE {name} (email text)")
    try:
        run = import_run_execute(_create(_people(5)).pk)
        assert run.status == RunStatus.COMPLETED and copies
        # Only the tables of a run still running stay: its worker may be using them.
        assert _stage_tables() == [left[1]]
    finally:
        with connection.cursor() as cursor:
            for name in left:
                cursor.execute(f"DROP TABLE IF EXISTS {name}")


def test_a_run_stopped_mid_way_drops_its_tables_and_resumes_after_its_last_committed_chunk(settings, copies):
    settings.CRM_IMPORT_CHUNK_ROWS = 2
    run = _create(_people(7))

    def stop_after_second_chunk(progress_run):
        if progress_run.processed_rows == 4:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        import_run_execute(run.pk, progress=stop_after_second_chunk)
    run.refresh_from_db()
    assert (run.status, run.processed_rows, Contact.objects.count()) == (RunStatus.RUNNING, 4, 4)
    assert _stage_tables() == []
    run = import_run_execute(run.pk)
    assert (run.status, run.processed_rows, run.created_count) == (RunStatus.COMPLETED, 7, 7)
    assert Contact.objects.count() == 7
    assert _stage_tables() == []


def test_a_copy_that_fails_fails_the_run_with_the_committed_chunks_kept(settings, monkeypatch):
    settings.CRM_IMPORT_CHUNK_ROWS = 2
    original = copy_path.Stager.copy
    calls = []

    def fail_third(self, staged):
        calls.append(staged.rows)
        if len(calls) == 3:
            raise OSError("connection lost")
        return original(self, staged)

    monkeypatch.setattr(copy_path.Stager, "copy", fail_third)
    run = import_run_execute(_create(_people(9)).pk)
    assert run.status == RunStatus.FAILED and run.error == UNEXPECTED_FAILURE
    assert (run.processed_rows, Contact.objects.count()) == (4, 4)
    assert _stage_tables() == []


def test_a_staging_table_is_written_again_only_after_the_chunk_read_from_it_is_released():
    owner = _create(_people(1))
    with copy_path.Stager(owner.pk) as stager:
        first, second, third, fourth = (copy_path.StagedChunk(rows=0, data=b"") for _ in range(4))
        assert stager.copy(first) and stager.copy(second)
        assert first.table != second.table and set(stager.tables) == {first.table, second.table}
        stager.release(first)
        assert stager.copy(third) and third.table == first.table
        # Neither table is free (second and third not merged yet): the copy gives up when stopped
        # rather than overwrite a chunk the main connection has not read.
        stager.stop()
        assert stager.copy(fourth) is False and fourth.table == copy_path.STAGING
        assert _stage_tables() == sorted(stager.tables)
    assert _stage_tables() == []
