"""The downloadable error report of an import: one line per problem, with the original row.

It is appended to while the import runs. A resumed import first cuts the report back to the
last line whose chunk was committed, so a problem is never listed twice.

It lives in the media storage, so a worker on another machine can resume it and a web process
anywhere can hand it out. A bucket has no append: there each chunk that found problems rewrites
the report (chunks without problems write nothing); on the local disk lines are appended.
"""

import csv
import io

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from aicmo_site.spreadsheets import csv_writer
from crm.imports.validating import RowError

REPORT_HEADER = ("line", "column", "value", "reason")
# A byte-order mark so spreadsheets open accented names correctly.
BOM = "\ufeff"


def report_name(run_id: int) -> str:
    return f"crm/import-errors/import-{run_id}-errors.csv"


class ErrorReport:
    def __init__(self, *, run_id: int, headers: list[str]):
        self.name = report_name(run_id)
        self.headers = headers
        self.storage = default_storage

    def exists(self) -> bool:
        return self.storage.exists(self.name)

    def rewind_to(self, committed_line: int) -> None:
        """Drops problems on lines after `committed_line` (written by a chunk that did not commit, or
        left by an earlier database that used the same run id)."""
        if not self.exists():
            return
        with self.storage.open(self.name, "rb") as handle:
            rows = list(csv.reader(io.StringIO(handle.read().decode("utf-8-sig"), newline="")))
        kept = [row for row in rows[1:] if row and row[0].isdigit() and int(row[0]) <= committed_line]
        self.storage.delete(self.name)
        if kept:
            self.storage.save(self.name, ContentFile((BOM + _csv_text(rows[:1] + kept)).encode()))

    def add(self, errors: list[RowError]) -> None:
        if not errors:
            return
        rows = [[e.line, e.column, e.value, e.reason, *e.values] for e in errors]
        if not self.exists():
            header = [*REPORT_HEADER, *self.headers]
            self.storage.save(self.name, ContentFile((BOM + _csv_text([header, *rows])).encode()))
            return
        text = _csv_text(rows)
        try:
            path = self.storage.path(self.name)
        except NotImplementedError:
            with self.storage.open(self.name, "rb") as handle:
                earlier = handle.read()
            self.storage.delete(self.name)
            self.storage.save(self.name, ContentFile(earlier + text.encode()))
        else:
            with open(path, "a", newline="", encoding="utf-8") as handle:
                handle.write(text)


def _csv_text(rows) -> str:
    buffer = io.StringIO(newline="")
    csv_writer(buffer).writerows(rows)
    return buffer.getvalue()
