"""The downloadable error report of an import: one line per problem, with the original row.

It is appended to while the import runs. A resumed import first cuts the report back to the
last line whose chunk was committed, so a problem is never listed twice.
"""

import csv
import os

from django.core.files.storage import default_storage

from aicmo_site.spreadsheets import csv_writer
from crm.imports.validating import RowError

REPORT_HEADER = ("line", "column", "value", "reason")


def report_name(run_id: int) -> str:
    return f"crm/import-errors/import-{run_id}-errors.csv"


class ErrorReport:
    def __init__(self, *, run_id: int, headers: list[str]):
        self.name = report_name(run_id)
        self.path = default_storage.path(self.name)
        self.headers = headers

    def exists(self) -> bool:
        return os.path.exists(self.path)

    def rewind_to(self, committed_line: int) -> None:
        """Drops problems on lines after `committed_line` (written by a chunk that did not commit, or
        left by an earlier database that used the same run id)."""
        if not self.exists():
            return
        with open(self.path, newline="", encoding="utf-8-sig") as handle:
            rows = list(csv.reader(handle))
        kept = [row for row in rows[1:] if row and row[0].isdigit() and int(row[0]) <= committed_line]
        if kept:
            self._write(rows[:1] + kept, mode="w")
        else:
            os.remove(self.path)

    def add(self, errors: list[RowError]) -> None:
        if not errors:
            return
        os.makedirs(os.path.dirname(self.path), exist_ok=True)
        rows = [[e.line, e.column, e.value, e.reason, *e.values] for e in errors]
        if not self.exists():
            rows.insert(0, [*REPORT_HEADER, *self.headers])
        self._write(rows, mode="a")

    def _write(self, rows, *, mode: str) -> None:
        # A byte-order mark so spreadsheets open accented names correctly.
        fresh = mode == "w" or not self.exists()
        with open(self.path, mode, newline="", encoding="utf-8-sig" if fresh else "utf-8") as handle:
            csv_writer(handle).writerows(rows)
