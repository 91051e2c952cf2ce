"""CSV import of contacts on PostgreSQL: end-to-end rows/s (validation, de-duplication, merge,
companies and tags) on an empty database; then the same file again (every row stored, unchanged);
the same people with changed values; and a file half new, half merging into stored contacts. Each
against the baseline of COPYing the same file into an unlogged, unindexed table of text columns,
measured right before it. Prints rows/s, the ratio to the baseline, the settings the import changes,
and the peak memory of this process and of the PostgreSQL server processes it used.

    python -m bench crm_import [--rows 1000000] [--database-url postgres://...] [--profile]

--profile also prints Python's per-row cost alone (read, validate, fold, COPY text: no database) and
the database's time per chunk by statement, commit included (where deferred constraint checks run),
and the COPY a second connection does meanwhile for a run of several chunks (copy_path.Stager).

The database (default postgres://postgres@127.0.0.1:5432/aicmo_bench_crm_import) is migrated
and its CRM tables emptied first: do not point it at data you want to keep.
"""

import argparse
import csv
import itertools
import os
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

COLUMNS = ["Email", "First Name", "Last Name", "Title", "Mobile Phone", "Company Name", "Person Linkedin Url",
           "City", "Country", "Lead Source", "Tags", "Plan"]
FIRST = ["Ana", "Bo", "Chloé", "Dmitri", "Eve", "Farid", "Grace", "Hugo", "Iris", "Jun"]
LAST = ["Martin", "Bernard", "Dubois", "Nguyen", "Smith", "García", "Rossi", "Müller", "Kowalski", "Sato"]
TITLES = ["CEO", "CMO", "Head of Growth", "Marketing manager", "Developer", "Sales lead"]
CITIES = [("Paris", "France"), ("Berlin", "Germany"), ("Austin", "United States"), ("Osaka", "Japan")]
TAGS = ["newsletter", "webinar", "trial", "partner", "vip", "event-2026"]


def write_file(path: Path, rows: int, *, offset: int, seed: int | None = None) -> None:
    """Addresses person<offset>... person<offset + rows - 1>; the other values drawn from `seed` (the
    offset by default): the same addresses with another seed are the same people with changed values."""
    rng = random.Random(offset if seed is None else seed)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        for n in range(offset, offset + rows):
            company = n // 20  # twenty people per company domain
            city, country = rng.choice(CITIES)
            writer.writerow([
                f"person{n}@company{company}.example", rng.choice(FIRST), rng.choice(LAST), rng.choice(TITLES),
                f"+33 6 {n % 100:02d} {n // 100 % 100:02d} {n // 10000 % 100:02d}", f"Company {company}",
                f"https://www.linkedin.com/in/person-{n}", city, country, "bench",
                ", ".join(rng.sample(TAGS, 2)), rng.choice(["free", "pro", "team"]),
            ])


def baseline_copy(path: Path) -> float:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_import_baseline")
        cursor.execute("CREATE UNLOGGED TABLE bench_import_baseline ("
                       + ", ".join(f"c{i} text" for i in range(len(COLUMNS))) + ")")
        started = time.perf_counter()
        with path.open("rb") as handle, cursor.cursor.copy(
                "COPY bench_import_baseline FROM STDIN WITH (FORMAT csv, HEADER true)") as copy:
            for block in iter(lambda: handle.read(1024 * 1024), b""):
                copy.write(block)
        elapsed = time.perf_counter() - started
        cursor.execute("DROP TABLE bench_import_baseline")
    return elapsed


def import_file(path: Path) -> tuple[float, object]:
    from django.core.files import File

    from crm.imports import import_run_create, import_run_execute

    started = time.perf_counter()
    with path.open("rb") as handle:
        run = import_run_create(upload=File(handle, name=path.name), tag="bench-import")
    run = import_run_execute(run.pk)
    return time.perf_counter() - started, run


def main(argv):
    parser = argparse.ArgumentParser(prog="bench crm_import", description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--profile", action="store_true",
                        help="print Python's per-row cost and the database's time per chunk by statement")
    parser.add_argument("--database-url", default=os.environ.get(
        "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/aicmo_bench_crm_import"))
    args = parser.parse_args(argv)
    workdir = Path(tempfile.mkdtemp(prefix="aicmo-bench-import-"))
    try:
        return _run(args, workdir)
    finally:
        # Two generated files and three stored uploads: about 0.8 GB at a million rows.
        shutil.rmtree(workdir, ignore_errors=True)


def _run(args, workdir: Path) -> int:
    os.environ["DATABASE_URL"] = args.database_url
    os.environ["MEDIA_ROOT"] = str(workdir / "media")
    _create_database(args.database_url)

    from bench.conditions import describe, peak_rss_mb, setup_django

    setup_django()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    settings.DEBUG = False  # no query log growing with the import
    if connection.vendor != "postgresql":
        print("crm_import measures the PostgreSQL path: give a postgres:// --database-url", file=sys.stderr)
        return 2
    call_command("migrate", verbosity=0)
    with connection.cursor() as cursor:
        # The link tables have no foreign keys, so CASCADE does not reach them: named here.
        cursor.execute("TRUNCATE crm_contact, crm_company, crm_tag, crm_importrun, crm_contact_tags, "
                       "crm_contact_topics RESTART IDENTITY CASCADE")

    rows = args.rows
    first, changed, second = workdir / "first.csv", workdir / "changed.csv", workdir / "second.csv"
    write_file(first, rows, offset=0)
    # The first file's people with other names, titles, cities, plans and tags: every row merges into a
    # stored contact and changes it.
    write_file(changed, rows, offset=0, seed=rows * 7 + 1)
    # Half of it the first file's second half (merges into stored contacts, with other values), half new.
    write_file(second, rows, offset=rows // 2)
    size_mb = first.stat().st_size / 1e6
    rss_before = peak_rss_mb()
    backends = BackendMemory()

    print(describe(rows=rows, file_mb=f"{size_mb:.0f}", columns=len(COLUMNS)))
    print(changed_settings())
    if args.profile:
        print(python_cost(first))
    cases = (
        ("empty", "import, empty database", first),
        ("again", f"the same file again, all {rows:,} rows stored and unchanged", first),
        ("changed", f"all {rows:,} rows stored, every one with changed values", changed),
        ("full", f"database holding {rows:,}: {rows - rows // 2:,} new rows and {rows // 2:,} merged into "
                 "stored contacts (changed values)", second),
    )
    times = {}
    for key, label, path in cases:
        # The baseline is measured right before each import, so both see about the same load.
        baseline, baseline_load = baseline_copy(path), _load()
        with StatementTimes(enabled=args.profile) as statements, backends:
            elapsed, run = import_file(path)
        times[key] = elapsed
        rate, baseline_rate = rows / elapsed, rows / baseline
        print(f"{label}: {rate:,.0f} rows/s ({elapsed:.1f} s) | COPY baseline just before {baseline_rate:,.0f} "
              f"rows/s, load {baseline_load} | ratio to baseline {rate / baseline_rate:.3f} | {run.status}: "
              f"{run.created_count:,} created, {run.updated_count:,} updated, {run.failed_count:,} failed | "
              f"load {_load()}")
        if args.profile:
            print(statements.report(key))
    for key in ("again", "changed", "full"):
        goal = " (goal: at most 1.20x)" if key == "again" else ""
        print(f"{key} vs empty: {times[key] / times['empty']:.2f}x the time{goal}")
    print(f"peak memory of this process: {peak_rss_mb():.0f} MB (before importing: {rss_before:.0f} MB)")
    print(backends.report())
    return 0


def changed_settings() -> str:
    """What an import changes from the defaults while it runs (crm/imports/copy_path.py, pipeline.py)."""
    from crm.imports import conf, copy_path, pipeline

    return ("settings changed by the import: PostgreSQL per chunk transaction synchronous_commit=off, jit=off, "
            f"work_mem=64MB; staging tables UNLOGGED, autovacuum off; Python switch interval "
            f"{pipeline.SWITCH_INTERVAL * 1000:g} ms, gc threshold {pipeline.GC_THRESHOLD:,} with gc.freeze(); "
            f"chunk {conf.import_chunk_rows(copy_path.CHUNK_ROWS):,} rows")


class BackendMemory:
    """Peak RSS of the PostgreSQL server processes an import talks to (its connection and a Stager's),
    read from /proc: the bench runs on the database's machine. VmHWM counts the shared buffers a
    process touched as well as its own memory."""

    def __init__(self):
        self.peaks: dict[str, float] = {}

    def _read(self, label: str, pid: int) -> None:
        try:
            with open(f"/proc/{pid}/status") as status:
                for line in status:
                    if line.startswith("VmHWM:"):
                        self.peaks[label] = max(self.peaks.get(label, 0.0), int(line.split()[1]) / 1024)
        except OSError:
            self.peaks.setdefault(label, float("nan"))

    def __enter__(self):
        from crm.imports import copy_path

        self._exit = copy_path.Stager.__exit__
        memory = self

        def stager_exit(stager, *exc_info):
            # Read before the connection closes and its server process ends.
            memory._read("staging connection", stager._connection.info.backend_pid)
            return memory._exit(stager, *exc_info)

        copy_path.Stager.__exit__ = stager_exit
        return self

    def __exit__(self, *exc):
        from django.db import connection

        from crm.imports import copy_path

        copy_path.Stager.__exit__ = self._exit
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            self._read("main connection", cursor.fetchone()[0])
        return False

    def report(self) -> str:
        if not self.peaks:
            return "PostgreSQL peak memory: not read"
        return "PostgreSQL peak memory (VmHWM, shared buffers touched included): " + ", ".join(
            f"{label} {value:.0f} MB" for label, value in self.peaks.items())


def python_cost(path: Path) -> str:
    """Python's share of an import alone, per row: reading the CSV, validating, folding in-chunk
    duplicates and writing the COPY text; no database. By the clock, and in CPU time of the thread
    doing it: on a loaded machine the clock mostly measures the wait for a core."""
    from crm.imports import copy_path
    from crm.imports.mapping import auto_mapping
    from crm.imports.merging import fold_duplicates
    from crm.imports.pipeline import read_ahead
    from crm.imports.reading import CsvStream, sniff_format
    from crm.imports.validating import RowValidator

    stages = ("read", "validate", "fold", "prepare")
    spent, cpu = dict.fromkeys(stages, 0.0), dict.fromkeys(stages, 0.0)
    rows = 0

    def chunks():
        # Through read_ahead, as an import runs it (its thread, its garbage collector settings).
        nonlocal rows
        with path.open("rb") as handle:
            reader = CsvStream(handle, sniff_format(handle))
            validate = RowValidator(headers=reader.headers, mapping=auto_mapping(reader.headers),
                                    run_tag="bench-import").validate
            records = iter(reader)
            while True:
                marks = [(time.perf_counter(), time.thread_time())]
                chunk = list(itertools.islice(records, copy_path.CHUNK_ROWS))
                if not chunk:
                    return
                marks.append((time.perf_counter(), time.thread_time()))
                valid = [validate(record) for record in chunk]
                marks.append((time.perf_counter(), time.thread_time()))
                unique, _ = fold_duplicates(valid, "update")
                marks.append((time.perf_counter(), time.thread_time()))
                staged = copy_path.prepare(unique)
                marks.append((time.perf_counter(), time.thread_time()))
                rows += len(chunk)
                for name, before, after in zip(stages, marks[:-1], marks[1:], strict=True):
                    spent[name] += after[0] - before[0]
                    cpu[name] += after[1] - before[1]
                yield staged

    for _ in read_ahead(chunks(), bulk=True):
        pass
    total, total_cpu = sum(spent.values()), sum(cpu.values())
    parts = ", ".join(f"{name} {value / rows * 1e6:.1f}" for name, value in spent.items())
    cpu_parts = ", ".join(f"{name} {value / rows * 1e6:.1f}" for name, value in cpu.items())
    return (f"python alone: {total / rows * 1e6:.1f} us/row by the clock ({parts}), at most {rows / total:,.0f} "
            f"rows/s on one core at this load; CPU {total_cpu / rows * 1e6:.1f} us/row ({cpu_parts}), "
            f"{rows / total_cpu:,.0f} rows/s on an idle core | load {_load()}")


OVERLAPPED = "COPY (second connection, overlapped)"


class StatementTimes:
    """The database's time per import chunk by statement (its first words), with COPY and commit."""

    def __init__(self, *, enabled: bool):
        self.enabled = enabled
        self.spent: dict[str, float] = {}
        self.chunks = 0

    def _add(self, name: str, started: float) -> None:
        self.spent[name] = self.spent.get(name, 0.0) + time.perf_counter() - started

    def __enter__(self):
        if not self.enabled:
            return self
        from django.db import connection

        from crm.imports import copy_path

        def timed(execute, sql, params, many, context):
            started = time.perf_counter()
            try:
                return execute(sql, params, many, context)
            finally:
                self._add(" ".join(sql.split()[:4])[:60], started)

        self._wrapper = connection.execute_wrapper(timed)
        self._wrapper.__enter__()
        self._commit, self._apply, self._copy = connection.commit, copy_path.apply_chunk, copy_path.Stager._write

        def commit():
            started = time.perf_counter()
            self._commit()
            self._add("COMMIT (deferred constraint checks)", started)

        def apply_chunk(staged, **kwargs):
            # COPY goes through psycopg directly, not execute(): it is the chunk's time not spent in
            # statements (about 0 when a Stager copied the chunk beforehand).
            self.chunks += 1
            started, statements = time.perf_counter(), self._statements()
            try:
                return self._apply(staged, **kwargs)
            finally:
                elapsed = time.perf_counter() - started - (self._statements() - statements)
                self.spent["COPY"] = self.spent.get("COPY", 0.0) + elapsed

        def copy(stager, table, data):
            # A background import of several chunks COPYs on a second connection, in a thread, while
            # the main one merges: listed apart, since it overlaps the statements above it (the wait
            # for a free staging table is left out).
            started = time.perf_counter()
            try:
                return self._copy(stager, table, data)
            finally:
                self._add(OVERLAPPED, started)

        connection.commit, copy_path.apply_chunk, copy_path.Stager._write = commit, apply_chunk, copy
        return self

    def __exit__(self, *exc):
        if self.enabled:
            from django.db import connection

            from crm.imports import copy_path

            self._wrapper.__exit__(*exc)
            connection.commit, copy_path.apply_chunk, copy_path.Stager._write = self._commit, self._apply, self._copy
        return False

    def _statements(self) -> float:
        """Time in this connection's statements so far: the other connection's COPYs, added by another
        thread meanwhile, are not part of the chunk's own time."""
        return sum(value for name, value in self.spent.items() if name != OVERLAPPED)

    def report(self, label: str) -> str:
        chunks = max(self.chunks, 1)
        lines = [f"database time per chunk ({label}, {self.chunks} chunks), ms:"]
        for name, value in sorted(self.spent.items(), key=lambda item: -item[1]):
            lines.append(f"  {value / chunks * 1000:8.1f}  {name}")
        return "\n".join(lines)


def _load() -> str:
    """The 1-minute load average as the step ends: on a shared machine it says how far to trust a figure."""
    return f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"


def _create_database(url: str) -> None:
    """Creates the benchmark database when it does not exist yet."""
    from urllib.parse import urlsplit

    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin = url.replace(parts.path, "/postgres", 1)
    with psycopg.connect(admin, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')
