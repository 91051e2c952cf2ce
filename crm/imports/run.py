"""The import run: create it from an upload, start it, execute it (resumably), cancel it.

An import commits chunk by chunk; each chunk's contacts, counts and error lines are committed
together with `processed_rows`, so a run that stops half-way (worker killed, deploy) resumes
after the last committed chunk when executed again, and executing a finished run does nothing.
"""

import itertools
import logging
from collections.abc import Callable, Iterator
from contextlib import ExitStack, closing
from dataclasses import dataclass
from datetime import timedelta

from django.core.files import File
from django.db import connection, transaction
from django.db.models import F, QuerySet
from django.urls import reverse
from django.utils import timezone
from django_q.tasks import async_task

from aicmo_site.audit import audit_operation
from aicmo_site.errors import ConflictError, DomainError
from aicmo_site.runs import RUN_TRANSITIONS
from aicmo_site.transitions import Workflow
from crm.choices import RUN_TERMINAL, ImportedRows, ImportPolicy, RunStatus, SuppressionKind
from crm.imports import conf, copy_path, orm_path
from crm.imports.followups import contacts_imported_send, journey_choices
from crm.imports.mapping import auto_mapping, mapping_resolve
from crm.imports.merging import ChunkCounts, fold_duplicates
from crm.imports.pipeline import read_ahead
from crm.imports.reading import CsvFormat, CsvStream, count_lines, preview, sniff_format
from crm.imports.report import ErrorReport
from crm.imports.validating import ContactRow, RowError, RowValidator, topic_lookup
from crm.models import Contact, ImportRun, Suppression, Tag
from crm.run_rows import shared_run_create, shared_run_follow
from crm.selectors import imports_stuck
from crm.webhook_events import import_finished_emit

logger = logging.getLogger(__name__)

# An import moves as every background run does: its shared run row follows each move.
IMPORT_RUN_TRANSITIONS = RUN_TRANSITIONS
IMPORT_RUN_WORKFLOW = Workflow(model=ImportRun, transitions=IMPORT_RUN_TRANSITIONS, terminal=RUN_TERMINAL,
                               noun="import", clean_exclude=[])
TASK = "crm.data_tasks.import_run_execute"
UNEXPECTED_FAILURE = ("The import stopped on an unexpected error; the rows counted as processed are kept. "
                      "Try again, and tell an administrator if it happens again (the server log has the details).")


@transaction.atomic
def import_run_transition(*, run_id: int, to: str, error: str = "", by=None) -> ImportRun:
    run = ImportRun.objects.select_for_update().get(pk=run_id)
    now = timezone.now()
    if to == RunStatus.RUNNING:
        fields = {"started_at": run.started_at or now}
    else:
        fields = {"finished_at": now, "error": error}
    if to == RunStatus.COMPLETED:
        fields["total_rows"] = run.processed_rows
    run = IMPORT_RUN_WORKFLOW.transition(run, to, by=by, note=error, locked=True, fields=fields)
    shared_run_follow(run)
    if to in RUN_TERMINAL:
        import_finished_emit(run)
        _audit(run)
    return run


def _audit(run: ImportRun) -> None:
    """One entry for the whole import, never one per row (the rows are written in bulk, without signals)."""
    changed = run.created_count + run.updated_count
    if changed:
        audit_operation(model=Contact, action=f"Import {run.original_name or run.pk}".strip(), count=changed,
                        by=run.requested_by, run=run, link=reverse("crm:import-detail", args=[run.pk]),
                        details={"created": run.created_count, "updated": run.updated_count,
                                 "skipped": run.skipped_count, "failed": run.failed_count})


def import_preview(*, upload, rows: int = 5) -> dict:
    """Columns, first rows, detected format and automatic mapping of a file, without importing it."""
    csv_format = sniff_format(upload)
    headers, sample = preview(upload, csv_format, rows)
    return {"headers": headers, "rows": sample, "mapping": auto_mapping(headers),
            "encoding": csv_format.encoding, "delimiter": csv_format.delimiter}


@transaction.atomic
def import_run_create(*, upload, original_name: str = "", policy: str = ImportPolicy.UPDATE, tag: str = "",
                      mapping: dict | None = None, by=None, starts_now: bool = False, journey_id: int | None = None,
                      journey_rows: str = ImportedRows.BOTH) -> ImportRun:
    """Stores the upload and its detected format; the mapping is automatic unless given. `starts_now`:
    no one will choose the mapping later (an API upload), so a file it cannot import is refused here,
    before a run exists, instead of leaving a run that never starts. `journey_id`: an active journey the
    created and/or updated contacts (`journey_rows`) enter as their chunk commits."""
    if policy not in ImportPolicy.values:
        raise DomainError(f"Unknown policy {policy!r}: use update or skip_existing.", code="invalid_policy")
    if journey_id is not None and journey_id not in dict(journey_choices()):
        raise DomainError("Choose an active journey for the imported contacts.", code="invalid_journey",
                          extra={"fields": {"journey": "Choose an active journey."}})
    if journey_rows not in ImportedRows.values:
        raise DomainError(f"Choose which contacts enter the journey: {', '.join(ImportedRows.values)}.",
                          code="invalid_journey_rows")
    csv_format = sniff_format(upload)
    headers = CsvStream(upload, csv_format).headers
    resolved = mapping_resolve(headers, mapping) if mapping or starts_now else auto_mapping(headers)
    # A file name or tag is text PostgreSQL must hold, and no one types a NUL on purpose.
    name = (original_name or getattr(upload, "name", "") or "contacts.csv").replace("\x00", "")
    tag = tag.replace("\x00", "")
    upload.seek(0)
    run = ImportRun(
        original_name=name[-255:], encoding=csv_format.encoding, delimiter=csv_format.delimiter,
        mapping=resolved, policy=policy, tag=tag.strip(), requested_by=by, total_rows=count_lines(upload),
        journey_id=journey_id, journey_rows=journey_rows,
    )
    run.file.save("contacts.csv", File(upload), save=False)
    run.full_clean()
    run.save()
    shared_run_create(run)
    return run


def import_run_start(*, run: ImportRun, mapping: dict | None = None, background: bool | None = None) -> ImportRun:
    """Checks the mapping, then imports now (small files) or hands the run to a worker."""
    if run.status != RunStatus.QUEUED:
        raise ConflictError("This import has already started.", code="already_started")
    with run.file.open("rb") as stream:
        headers = CsvStream(stream, CsvFormat(run.encoding, run.delimiter)).headers
    resolved = mapping_resolve(headers, mapping if mapping is not None else run.mapping)
    ImportRun.objects.filter(pk=run.pk).update(mapping=resolved)
    run.mapping = resolved
    if background is None:
        background = run.file.size > conf.import_inline_max_bytes()
    if background:
        transaction.on_commit(lambda: async_task(TASK, run.pk, task_name=f"import-{run.pk}"))
        return run
    return import_run_execute(run.pk)


def import_runs_resume(*, now=None) -> list[int]:
    """Hands running imports that stopped moving to a worker again, from their last committed chunk.

    A task taken from Redis dies with its worker, and nothing else would ever take the run up again.
    A run whose first worker is only slow is safe too: whichever commits the next chunk first goes on,
    and the other finds itself superseded."""
    before = (now or timezone.now()) - timedelta(seconds=conf.import_resume_after_seconds())
    stalled = list(imports_stuck(before=before).filter(status=RunStatus.RUNNING).values_list("pk", flat=True))
    for run_id in stalled:
        async_task(TASK, run_id, task_name=f"import-{run_id}-resumed")
    return stalled


def import_run_cancel(*, run: ImportRun, by=None) -> ImportRun:
    who = by.get_username() if by is not None else "the system"
    return import_run_transition(run_id=run.pk, to=RunStatus.CANCELED, error=f"Canceled by {who}.", by=by)


def _claim(run_id: int) -> ImportRun | None:
    with transaction.atomic():
        run = ImportRun.objects.select_for_update().get(pk=run_id)
        if run.status in RUN_TERMINAL:
            return None
        if run.status == RunStatus.QUEUED:
            run = import_run_transition(run_id=run.pk, to=RunStatus.RUNNING)
        return run


def import_run_execute(run_id: int, *, progress: Callable[[ImportRun], None] | None = None) -> ImportRun:
    """Imports the file of a run, resuming after its last committed chunk; idempotent."""
    run = _claim(run_id)
    if run is not None:
        try:
            _ImportJob(run, progress).execute()
        except _Superseded:
            pass
        except DomainError as exc:
            _finish(run_id, RunStatus.FAILED, error=exc.message)
        except Exception:
            # The database's own words name tables and encodings, not the file's problem; they go to the log.
            logger.exception("Import %s failed", run_id)
            _finish(run_id, RunStatus.FAILED, error=UNEXPECTED_FAILURE)
    return ImportRun.objects.get(pk=run_id)


def _finish(run_id: int, to: str, error: str = "") -> None:
    """Ends a run unless something else ended it first (a cancel, a duplicate worker)."""
    with transaction.atomic():
        if ImportRun.objects.select_for_update().filter(pk=run_id, status__in=RUN_TERMINAL).exists():
            return
        import_run_transition(run_id=run_id, to=to, error=error)


class _Superseded(Exception):
    """The run was canceled, or another worker moved it on, while this one was reading."""


@dataclass
class _Chunk:
    size: int  # records read, good and bad
    staged: object  # what the database path's apply_chunk takes; None when no row is valid
    counts: ChunkCounts  # rows folded into an earlier row of the same chunk
    errors: list[RowError]
    failed: int


class _ImportJob:
    def __init__(self, run: ImportRun, progress):
        self.run = run
        self.progress = progress
        self.path = copy_path if connection.vendor == "postgresql" else orm_path
        self.chunk_rows = conf.import_chunk_rows(self.path.CHUNK_ROWS)
        self.committed_line = 0
        self.report_checked = False

    def execute(self) -> None:
        run = self.run
        with run.file.open("rb") as stream:
            reader = CsvStream(stream, CsvFormat(run.encoding, run.delimiter))
            validator = RowValidator(headers=reader.headers, mapping=run.mapping, run_tag=run.tag,
                                     erased_hashes=_erased_hashes(), topics=topic_lookup())
            report = ErrorReport(run_id=run.pk, headers=reader.headers)
            records = iter(reader)
            for record in itertools.islice(records, run.processed_rows):
                self.committed_line = record.line
            if run.tag:
                Tag.objects.get_or_create(name=run.tag)
            done = run.processed_rows
            bulk = run.total_rows - run.processed_rows > self.chunk_rows
            # A second connection COPYs the next chunk while this one merges (copy_path.Stager), for a
            # file of several chunks imported outside any transaction (a worker, a command): inside one,
            # the chunks never commit and the tables could not be written again.
            overlap = bulk and self.path is copy_path and not connection.in_atomic_block
            # Unwound in reverse, before the file closes, whatever stops the loop: the threads end
            # (a copy waiting for a table gives up first), then the staging tables are dropped.
            with ExitStack() as stack:
                stager = stack.enter_context(copy_path.Stager(run.pk)) if overlap else None
                chunks = stack.enter_context(closing(read_ahead(self._prepared(records, validator), bulk=bulk)))
                if stager is not None:
                    chunks = stack.enter_context(closing(read_ahead(self._copied(chunks, stager))))
                    stack.callback(stager.stop)
                for chunk in chunks:
                    done = self._commit(chunk, report, done)
                    if stager is not None and chunk.staged is not None:
                        stager.release(chunk.staged)
        _finish(run.pk, RunStatus.COMPLETED)

    def _prepared(self, records, validator: RowValidator) -> Iterator[_Chunk]:
        """Chunks ready for the database; runs in the read-ahead thread, so it must not query."""
        while chunk := self._prepare(itertools.islice(records, self.chunk_rows), validator):
            yield chunk

    @staticmethod
    def _copied(chunks: Iterator[_Chunk], stager) -> Iterator[_Chunk]:
        """Chunks already COPYed into a staging table; runs in a second reading thread."""
        for chunk in chunks:
            if chunk.staged is not None and not stager.copy(chunk.staged):
                return
            yield chunk

    def _prepare(self, batch, validator: RowValidator) -> _Chunk | None:
        # A function of its own so the chunk's records and rows are freed once it is staged, not
        # kept alive by the suspended generator while the previous chunk merges.
        validate = validator.validate
        rows: list[ContactRow] = []
        errors, size, failed = [], 0, 0
        for record in batch:
            size += 1
            result = validate(record)
            if result.__class__ is ContactRow:
                rows.append(result)
            else:
                errors.extend(result)
                failed += 1
        if not size:
            return None
        unique, counts = fold_duplicates(rows, self.run.policy)
        return _Chunk(size=size, staged=self.path.prepare(unique) if unique else None, counts=counts,
                      errors=errors, failed=failed)

    def _imported(self, created: QuerySet[Contact], updated: QuerySet[Contact]) -> None:
        contacts_imported_send(self.run, created=created, updated=updated)

    def _commit(self, chunk: _Chunk, report: ErrorReport, done: int) -> int:
        counts = chunk.counts
        with transaction.atomic():
            locked = ImportRun.objects.select_for_update().get(pk=self.run.pk)
            if locked.status != RunStatus.RUNNING or locked.processed_rows != done:
                raise _Superseded
            if not self.report_checked:
                # Under the run's lock, so no other worker is half-way through writing its lines.
                report.rewind_to(self.committed_line)
                self.report_checked = True
            if chunk.staged is not None:
                counts += self.path.apply_chunk(chunk.staged, policy=self.run.policy,
                                                imported=self._imported if self.run.journey_id else None)
            report.add(chunk.errors)
            processed = done + chunk.size
            ImportRun.objects.filter(pk=self.run.pk).update(
                processed_rows=processed, total_rows=max(locked.total_rows, processed),
                created_count=F("created_count") + counts.created, updated_count=F("updated_count") + counts.updated,
                skipped_count=F("skipped_count") + counts.skipped, failed_count=F("failed_count") + chunk.failed,
                error_report=report.name if report.exists() else "", progressed_at=timezone.now(),
            )
            shared_run_follow(ImportRun.objects.get(pk=self.run.pk), figures_only=True)
        if self.progress:
            self.progress(ImportRun.objects.get(pk=self.run.pk))
        return processed


def _erased_hashes() -> frozenset[str]:
    return frozenset(Suppression.objects.filter(kind=SuppressionKind.EMAIL, value__startswith="sha256:")
                     .values_list("value", flat=True))


__all__ = ["ChunkCounts", "IMPORT_RUN_TRANSITIONS", "import_preview", "import_run_cancel", "import_run_create",
           "import_run_execute", "import_run_start", "import_run_transition"]
