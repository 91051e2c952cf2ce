"""Reading a CSV upload as a stream of records, whatever spreadsheet wrote it.

Encoding and delimiter are decided from the first 64 kB: a UTF-8 byte-order mark or bytes that
decode as UTF-8 mean UTF-8, anything else Latin-1 (which decodes every byte, so a file never
fails to open). A later line that is not valid UTF-8 in a UTF-8 file is decoded as Latin-1 on
its own, so one mis-saved row does not sink the rest. Lines are decoded one at a time: memory
stays flat whatever the file's size.
"""

import codecs
import csv
from collections.abc import Iterator
from dataclasses import dataclass
from typing import NamedTuple

from aicmo_site.errors import DomainError

SAMPLE_BYTES = 64 * 1024
DELIMITERS = (",", ";", "\t")
NUL_IN_LINE = ("The line holds a NUL character (a zero byte), which a contact cannot store; remove it and "
               "import the line again.")
# Spreadsheet cells may be large (notes), but a whole file in one field means a broken quote.
csv.field_size_limit(1024 * 1024)


@dataclass(frozen=True)
class CsvFormat:
    encoding: str
    delimiter: str


class Record(NamedTuple):
    """A tuple rather than a dataclass: one is made per line, and a tuple is the cheapest to build."""

    line: int
    values: list[str]
    error: str = ""


def sniff_format(stream, *, encoding: str = "", delimiter: str = "") -> CsvFormat:
    """Looks at the start of a binary stream (and rewinds it)."""
    stream.seek(0)
    sample = stream.read(SAMPLE_BYTES)
    stream.seek(0)
    if not sample.strip():
        raise DomainError("The file is empty.", code="empty_file")
    _refuse_binary(sample)
    if not encoding:
        encoding = _sniff_encoding(sample)
    if not delimiter:
        first_line = sample.decode(encoding, errors="replace").lstrip("\ufeff").splitlines()[0]
        delimiter = max(DELIMITERS, key=lambda d: (len(next(csv.reader([first_line], delimiter=d))), d == ","))
    return CsvFormat(encoding=encoding, delimiter=delimiter)


# Bytes no spreadsheet writes into text: C0 controls but tab, line feed, form feed and carriage return.
_CONTROL_BYTES = bytes(b for b in range(32) if b not in (9, 10, 12, 13))
_BINARY_SHARE = 0.05


def _refuse_binary(sample: bytes) -> None:
    """An image, an archive or a UTF-16 file renamed .csv is refused before a run exists. One stray NUL
    in a row is not a binary file: that row is reported and the others are imported (CsvStream)."""
    header = sample.split(b"\n", 1)[0]
    controls = len(sample) - len(sample.translate(None, _CONTROL_BYTES))
    if header.translate(None, _CONTROL_BYTES) != header or controls > len(sample) * _BINARY_SHARE:
        raise DomainError("This is not a CSV file: it holds binary data. Export the sheet as CSV (UTF-8) "
                          "and upload that file.", code="not_csv")


def _sniff_encoding(sample: bytes) -> str:
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    # The sample may end in the middle of a multi-byte character: judge up to its last new line.
    complete = sample[: sample.rfind(b"\n") + 1] or sample
    try:
        complete.decode("utf-8")
    except UnicodeDecodeError:
        return "latin-1"
    return "utf-8"


def _decoded_lines(stream, encoding: str) -> Iterator[str]:
    strict_utf8 = encoding in ("utf-8", "utf-8-sig")
    first = True
    for raw in stream:
        if first and raw.startswith(codecs.BOM_UTF8):
            raw = raw[len(codecs.BOM_UTF8):]
        first = False
        if strict_utf8:
            try:
                yield raw.decode("utf-8")
            except UnicodeDecodeError:
                yield raw.decode("latin-1")
        else:
            yield raw.decode(encoding, errors="replace")


def unique_headers(headers: list[str]) -> list[str]:
    """Names every column distinctly ("Phone", "Phone 2") so a mapping can point at each."""
    seen: dict[str, int] = {}
    result = []
    for position, header in enumerate(headers, start=1):
        name = header.strip() or f"Column {position}"
        count = seen.get(name, 0) + 1
        seen[name] = count
        result.append(name if count == 1 else f"{name} {count}")
    return result


class CsvStream:
    """The header and then the records of a binary stream, with the line each record starts on."""

    def __init__(self, stream, csv_format: CsvFormat):
        stream.seek(0)
        self._reader = csv.reader(_decoded_lines(stream, csv_format.encoding), delimiter=csv_format.delimiter)
        try:
            header = next(self._reader)
        except StopIteration:
            raise DomainError("The file is empty.", code="empty_file")
        except csv.Error as exc:
            raise DomainError(f"The header line cannot be read: {exc}.", code="bad_file")
        if not any(cell.strip() for cell in header):
            raise DomainError("The first line must name the columns; it is blank.", code="bad_file")
        self.headers = unique_headers(header)

    def __iter__(self) -> Iterator[Record]:
        reader = self._reader
        start = reader.line_num + 1
        while True:
            try:
                values = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                # A broken quote: report it on its line and go on with the next one.
                yield Record(line=start, values=[], error=f"The line cannot be read as CSV: {exc}.")
                start = reader.line_num + 1
                continue
            line, start = start, reader.line_num + 1
            joined = "".join(values)
            if "\x00" in joined:
                # PostgreSQL text cannot hold NUL, and in a name it is invisible garbage: the row is reported
                # (its cells shown without the NUL), never stored.
                yield Record(line=line, values=[value.replace("\x00", "") for value in values], error=NUL_IN_LINE)
            elif joined.strip():  # not a blank line, or one of empty cells
                yield Record(line=line, values=values)


def count_lines(stream) -> int:
    """Data lines (an estimate when quoted cells hold new lines), for progress before reading."""
    stream.seek(0)
    lines, last = 0, b""
    for block in iter(lambda: stream.read(1024 * 1024), b""):
        lines += block.count(b"\n")
        last = block
    stream.seek(0)
    if last and not last.endswith(b"\n"):
        lines += 1
    return max(lines - 1, 0)


def preview(stream, csv_format: CsvFormat, rows: int = 5) -> tuple[list[str], list[list[str]]]:
    reader = CsvStream(stream, csv_format)
    sample = []
    for record in reader:
        sample.append(record.values)
        if len(sample) >= rows:
            break
    stream.seek(0)
    return reader.headers, sample
