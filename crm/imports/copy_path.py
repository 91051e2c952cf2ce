"""The PostgreSQL path: COPY each chunk into a temporary staging table, then merge it with a few
set-based statements (INSERT ... ON CONFLICT). Python only parses, validates and writes the COPY
text (in the read-ahead thread, see pipeline.py); PostgreSQL does the de-duplication against
stored contacts, the provenance rule, companies and tags.

Where a chunk's time goes (20,000 rows, 12 columns, 3 tag links a row; bench crm_import --profile
at 1M rows, empty database): the merge statement about 320-380 ms (contact upsert about 225, of
which ON CONFLICT's speculative insertion about 50; the 60,000 links about 190), COPY about 70-100
(a third of it parsing the two jsonb columns), the company upsert about 10-15, the commit about 3 at 200k rows
(no foreign key is checked there any more: see Contact.company and the link tables). For a file of
several chunks imported outside a transaction (a worker, a command), a second connection COPYs
the next chunk while this one merges (Stager, below), so only the merge and the small statements
stay on the critical path. Python's share (about 15-20 us a row) runs on the other core meanwhile.

Every name put into the SQL comes from model metadata or constants here, never from the file:
the file's values travel only through COPY and query parameters (hence the S608 waivers).

The merge expresses exactly the rule in crm/imports/merging.py; the import tests run on both
databases to keep this path and the ORM path in step.
"""

import json
import re
import secrets
import threading
from dataclasses import dataclass, field

import psycopg
from django.db import connection
from django.db.models import QuerySet
from django.db.models.expressions import RawSQL

from crm.choices import (
    RUN_TERMINAL,
    ConsentStatus,
    EmailStatus,
    EngagementTier,
    FieldSource,
    ImportPolicy,
    LifecycleStatus,
)
from crm.imports.merging import ChunkCounts, new_contact_sources
from crm.imports.orm_path import Imported
from crm.imports.validating import SCALAR_FIELDS, ContactRow
from crm.models import Company, Contact, ImportRun, Tag, Topic
from crm.tagging import tags_adding_send, tags_watched_among

CHUNK_ROWS = 20_000
STAGING = "crm_import_staging"
STAGE_PREFIX = "crm_import_stage_"  # + run id, a token, the slot: the staging tables of Stager
_TEXT_FIELDS = tuple(f for f in SCALAR_FIELDS if f != "company")
_COLUMNS = ("email", "domain", *_TEXT_FIELDS, "company", "custom", "sources", "tags", "topics")
_SCALARS, _BLANKS = (*_TEXT_FIELDS, "company"), ("",) * (len(_TEXT_FIELDS) + 1)


_STAGED_COLUMNS = (", ".join(f"{name} text NOT NULL" for name in ("email", "domain", *_TEXT_FIELDS, "company"))
                   + ", custom jsonb NOT NULL, sources jsonb NOT NULL, tags text[] NOT NULL, topics bigint[] NOT NULL")
# PostgreSQL's text format: a row is its values joined by tabs, so Python builds it with one str.join
# (the csv module's writer, quoting every cell, was half of Python's cost per row).
_COPY = f"COPY {{table}} ({', '.join(_COLUMNS)}) FROM STDIN"
_TABS = len(_COLUMNS) - 1
# What a value must not hold as is in the text format (a tab within a value shows as an extra tab).
_COPY_SPECIAL = re.compile(r"[\\\n\r]")


def _copy_escaped(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def _ensure_staging(cursor) -> None:
    # The table lives as long as the session; emptied per chunk because a chunk may run inside an
    # outer transaction (a request, a test), where ON COMMIT alone would not clear it.
    cursor.execute(f"CREATE TEMPORARY TABLE IF NOT EXISTS {STAGING} ({_STAGED_COLUMNS}) ON COMMIT DELETE ROWS")
    cursor.execute(f"TRUNCATE {STAGING}")


def _text_array(values) -> str:
    return "{" + ",".join('"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"' for v in sorted(values)) + "}"


@dataclass
class StagedChunk:
    """A chunk as COPY data, built and encoded by the read-ahead thread while the previous chunk
    merges (encoded there so the thread talking to the database does not wait for the GIL to do it)."""

    rows: int
    data: bytes
    topics: bool = False  # whether any row names topics (most files have no such column)
    # The chunk's tag names and (domain, company name) pairs, sorted (concurrent imports lock them in
    # the same order), gathered here so the database does not unnest and sort the staged rows for them.
    tags: list[str] = field(default_factory=list)
    companies: tuple[list[str], list[str]] = ([], [])  # domains, names
    domains: list[str] = field(default_factory=list)  # every domain of the chunk
    table: str = STAGING  # where the rows are: a Stager's table once it has copied them there


def prepare(rows: list[ContactRow]) -> StagedChunk:
    """Rows as COPY text (psycopg's per-value adaptation was the slowest part of a chunk): a row's
    values joined by tabs, escaped only in the rare row holding a backslash, tab or line break (an
    empty value stays an empty string: NULL would be \\N). A file's rows share a few sets of filled
    columns and tag lists, so their JSON and array texts are cached."""
    lines: list[str] = []
    append = lines.append
    special = _COPY_SPECIAL.search
    tag_texts: dict[frozenset, str] = {}
    topic_texts: dict[frozenset, str] = {}
    source_texts: dict[tuple, str] = {}
    custom_texts: dict[tuple, str] = {}
    companies: dict[str, str] = {}
    for row in rows:
        values, custom = row.values, row.custom
        if "company" in values and row.domain not in companies:
            companies[row.domain] = values["company"]
        # A frozenset, often the same object for many rows (see RowValidator), its hash computed once.
        tags_text = tag_texts.get(row.tags)
        if tags_text is None:
            tags_text = tag_texts[row.tags] = _text_array(row.tags)
        if row.topics:
            topics = frozenset(row.topics)
            topics_text = topic_texts.get(topics)
            if topics_text is None:
                topics_text = topic_texts[topics] = "{" + ",".join(map(str, sorted(topics))) + "}"
        else:
            topics_text = "{}"
        filled = (tuple(values), tuple(custom))
        sources_text = source_texts.get(filled)
        if sources_text is None:
            sources_text = source_texts[filled] = json.dumps(new_contact_sources(row))
        if custom:
            custom_items = tuple(custom.items())
            custom_text = custom_texts.get(custom_items)
            if custom_text is None:
                custom_text = custom_texts[custom_items] = json.dumps(custom)
        else:
            custom_text = "{}"
        # map() over the scalar names: the blank default for each unfilled one without a Python loop.
        cells = (row.email, row.domain, *map(values.get, _SCALARS, _BLANKS), custom_text, sources_text, tags_text,
                 topics_text)
        line = "\t".join(cells)
        if special(line) or line.count("\t") != _TABS:
            line = "\t".join(map(_copy_escaped, cells))
        append(line)
    domains = sorted(companies)
    lines.append("")  # the last row's line end
    return StagedChunk(rows=len(rows), data="\n".join(lines).encode(), topics=bool(topic_texts),
                       tags=sorted(set().union(*tag_texts)),
                       companies=(domains, [companies[domain] for domain in domains]),
                       domains=list({row.domain for row in rows}))


def _keep_unless_manual(field: str, contact: str) -> str:
    return (
        f"CASE WHEN excluded.{field} <> '' AND "
        f"coalesce({contact}.field_sources->>'{field}', '') <> '{FieldSource.MANUAL}' "
        f"THEN excluded.{field} ELSE {contact}.{field} END"
    )


def _merge_sql(policy: str, table: str = STAGING) -> str:
    contact = Contact._meta.db_table
    company = Company._meta.db_table
    insert_columns = ", ".join((
        "email", "domain", *_TEXT_FIELDS, "company_id", "custom_fields", "field_sources", "lifecycle_status",
        "email_status", "consent_status", "consent_source", "engagement_score", "engagement_tier",
        "soft_bounce_count", "created_at", "updated_at",
    ))
    selected = ", ".join((
        "s.email", "s.domain", *(f"s.{name}" if name != "source" else "coalesce(nullif(s.source, ''), 'import')"
                                 for name in _TEXT_FIELDS),
        "co.id", "s.custom", "s.sources", f"'{LifecycleStatus.NEW}'", f"'{EmailStatus.UNKNOWN}'",
        f"'{ConsentStatus.SUBSCRIBED}'", "''", "0", f"'{EngagementTier.INACTIVE}'", "0", "now()", "now()",
    ))
    head = (
        f"INSERT INTO {contact} ({insert_columns}) SELECT {selected} FROM {table} s "  # noqa: S608
        # Only the chunk's domains (a parameter): joined with the whole company table, the merge read
        # all of it for every chunk, in a time growing with the database (bench/NOTES.md).
        f"LEFT JOIN (SELECT id, domain FROM {company} WHERE domain = ANY(%s::text[])) co ON co.domain = s.domain "
    )
    if policy != ImportPolicy.UPDATE:
        return head + "ON CONFLICT (email) DO NOTHING RETURNING id, email, true AS created"
    manual = f"'{FieldSource.MANUAL}'"
    custom_all_manual = f"coalesce({contact}.field_sources->>'custom_fields', '') = {manual}"
    # Keys the stored contact got from a person: the file's values (and provenance) for them are dropped.
    # Most stored contacts have none: one jsonpath test per row spares them the two subqueries that list
    # them (about a sixth of an update chunk's merge).
    has_manual = f"{contact}.field_sources @? '$.* ? (@ == \"{FieldSource.MANUAL}\")'"
    manual_keys = (
        f"CASE WHEN {has_manual} THEN ARRAY(SELECT key FROM jsonb_each_text({contact}.field_sources) "  # noqa: S608
        f"WHERE value = {manual}) ELSE ARRAY[]::text[] END"
    )
    manual_custom = (
        f"CASE WHEN {has_manual} THEN ARRAY(SELECT substr(key, 8) FROM jsonb_each_text({contact}.field_sources) "  # noqa: S608
        f"WHERE starts_with(key, 'custom:') AND value = {manual}) ELSE ARRAY[]::text[] END"
    )
    file_custom_keys = (
        "ARRAY(SELECT key FROM jsonb_object_keys(excluded.field_sources) AS key WHERE starts_with(key, 'custom:'))"
    )
    merged = {name: _keep_unless_manual(name, contact) for name in _TEXT_FIELDS if name != "source"}
    merged.update({
        # A stored contact keeps its source unless the file has a column for it.
        "source": f"CASE WHEN excluded.field_sources ? 'source' AND "
                  f"coalesce({contact}.field_sources->>'source', '') <> {manual} "
                  f"THEN excluded.source ELSE {contact}.source END",
        "company_id": f"CASE WHEN excluded.field_sources ? 'company' AND "
                      f"coalesce({contact}.field_sources->>'company', '') <> {manual} "
                      f"THEN excluded.company_id ELSE {contact}.company_id END",
        "custom_fields": f"CASE WHEN {custom_all_manual} THEN {contact}.custom_fields "
                         f"ELSE {contact}.custom_fields || (excluded.custom_fields - {manual_custom}) END",
        "field_sources": f"{contact}.field_sources || (excluded.field_sources - {manual_keys} - "
                         f"CASE WHEN {custom_all_manual} THEN {file_custom_keys} ELSE ARRAY[]::text[] END)",
    })
    assignments = ", ".join(f"{name} = {value}" for name, value in merged.items())
    # A stored contact the file would not change is left alone: its row is not written again, so none
    # of the contact table's eight indexes gets a new entry (re-importing the same list was 1.22-1.30x
    # the time of the first import, bench/NOTES.md). It is still counted as updated, and gets its links.
    unchanged = (f"ROW({', '.join(f'{contact}.{name}' for name in merged)}) "
                 f"IS DISTINCT FROM ROW({', '.join(merged.values())})")
    return (head + f"ON CONFLICT (email) DO UPDATE SET {assignments}, updated_at = now() WHERE {unchanged} "
            "RETURNING id, email, (xmax = 0) AS created")


_LINKS = {
    # kind: (link table, its column for the other end, that end's table, the column matching the staged value)
    "tags": (Contact.tags.through._meta.db_table, "tag_id", Tag._meta.db_table, "name"),
    "topics": (Contact.topics.through._meta.db_table, "topic_id", Topic._meta.db_table, "id"),
}


def _links_sql(contact_ids: str, *, created: bool | None = None, kind: str = "tags", table: str = STAGING) -> str:
    """Tag (or topic) links of the staged rows whose contact id `contact_ids` (a relation with id and
    email) gives; with `created`, only of the contacts the merge created (True) or found stored
    (False). A created contact has no link yet, so its links are inserted without ON CONFLICT's extra
    probe of the unique index per link. The join with the tags (topics) table also keeps the link
    tables whole, which have no foreign keys: a topic deleted since the run read it gets no link."""
    link_table, column, other, key = _LINKS[kind]
    which = {None: "", True: "AND c.created ", False: "AND NOT c.created "}[created]
    # OFFSET 0 keeps rows and contacts joined before the tags are unnested: joined after, the
    # planner sorted both sides (a merge join of one row per link), which took about 40% of the links'
    # time; joined first, it hashes one row per contact.
    return (
        f"INSERT INTO {link_table} (contact_id, {column}) SELECT m.id, t.id "  # noqa: S608
        f"FROM (SELECT c.id, s.{kind} FROM {table} s JOIN {contact_ids} c ON c.email = s.email {which}OFFSET 0) m "
        f"CROSS JOIN LATERAL unnest(m.{kind}) AS wanted(value) JOIN {other} t ON t.{key} = wanted.value"
        + ("" if created else f" ON CONFLICT (contact_id, {column}) DO NOTHING")
    )


def _stored_links_sql(kind: str, table: str) -> str:
    """Under "update", in the merge's statement: links of the contacts stored before it. Those it changed
    are in its RETURNING; those it left unchanged are looked up by email, one index probe each (a
    join let the planner hash the whole contact table per chunk), in the table as the statement found
    it: a chunk of new contacts makes no look-up at all."""
    link_table, column, other, key = _LINKS[kind]
    contact = Contact._meta.db_table
    return (
        f"INSERT INTO {link_table} (contact_id, {column}) SELECT m.id, t.id FROM ("  # noqa: S608
        f"SELECT c.id, s.{kind} FROM {table} s JOIN merged c ON c.email = s.email AND NOT c.created "
        f"UNION ALL SELECT (SELECT id FROM {contact} WHERE email = s.email), s.{kind} FROM {table} s "
        "WHERE NOT EXISTS (SELECT FROM merged c WHERE c.email = s.email) OFFSET 0) m "
        f"CROSS JOIN LATERAL unnest(m.{kind}) AS wanted(value) JOIN {other} t ON t.{key} = wanted.value "
        f"WHERE m.id IS NOT NULL ON CONFLICT (contact_id, {column}) DO NOTHING"
    )


def _merge_and_link_sql(policy: str, *, topics: bool = False, table: str = STAGING) -> str:
    """The merge, and under "update" the tag (and topic) links in the same statement: the merge's
    RETURNING holds the ids of the contacts it created or changed, so only those it left unchanged are
    searched by email again. Under "skip_existing" RETURNING omits every stored contact, which get
    their links after."""
    links = ""
    if policy == ImportPolicy.UPDATE:
        for kind in ("tags", "topics") if topics else ("tags",):
            links += (f", {kind}_created AS ({_links_sql('merged', created=True, kind=kind, table=table)})"
                      f", {kind}_stored AS ({_stored_links_sql(kind, table)})")
    return (f"WITH merged AS ({_merge_sql(policy, table)}){links} "  # noqa: S608
            "SELECT count(*) FILTER (WHERE created) FROM merged")


def apply_chunk(staged: StagedChunk, *, policy: str, imported: Imported | None = None) -> ChunkCounts:
    """`imported`, when given, is told the chunk's created and updated contacts before the chunk commits:
    those stored before the merge (updated under "update", skipped otherwise) and those it created."""
    company = Company._meta.db_table
    with connection.cursor() as cursor:
        # The chunk and the run's progress commit together, so a chunk lost in a crash is simply
        # imported again on resume: no need to wait for the WAL flush (the slowest part of a chunk).
        # No JIT: the merge's estimated cost passes its threshold, but compiling took about a tenth of
        # a chunk's time and saves nothing on statements that mostly maintain indexes. The work memory
        # keeps the merge's join of a chunk's links in memory (the default spilled it to disk).
        cursor.execute("SELECT set_config('synchronous_commit', 'off', true), set_config('jit', 'off', true), "
                       "set_config('work_mem', '64MB', true)")
        if staged.table == STAGING:  # not copied by a Stager
            _ensure_staging(cursor)
            with cursor.cursor.copy(_COPY.format(table=STAGING)) as copy:
                copy.write(staged.data)
        # No ANALYZE of the staging table on purpose: with its true size the planner prefers hashing
        # the whole contact table to probing the email index per row, which grows with the database.
        if staged.companies[0]:
            cursor.execute(
                f"INSERT INTO {company} (domain, name, industry, size, website, created_at, updated_at) "  # noqa: S608
                "SELECT domain, name, '', '', '', now(), now() FROM unnest(%s::text[], %s::text[]) AS f(domain, name) "
                f"ON CONFLICT (domain) DO UPDATE SET name = excluded.name WHERE {company}.name = ''",
                staged.companies,
            )
        if staged.tags:
            cursor.execute(f"INSERT INTO {Tag._meta.db_table} (name, color) SELECT unnest(%s::text[]), '' "  # noqa: S608
                           "ON CONFLICT (name) DO NOTHING", [staged.tags])
        watched = _tags_watched(staged)
        last_stored = _last_stored() if watched or imported else 0
        _tags_announce(watched, staged.table, last_stored, created=False)
        cursor.execute(_merge_and_link_sql(policy, topics=staged.topics, table=staged.table), [staged.domains])
        (created,) = cursor.fetchone()
        _tags_announce(watched, staged.table, last_stored, created=True)
        if imported is not None:
            updated = _staged_contacts(staged.table, last_stored, created=False)
            imported(_staged_contacts(staged.table, last_stored, created=True),
                     updated if policy == ImportPolicy.UPDATE else updated.none())
        if policy != ImportPolicy.UPDATE:
            cursor.execute(_links_sql(Contact._meta.db_table, table=staged.table))
            if staged.topics:
                cursor.execute(_links_sql(Contact._meta.db_table, kind="topics", table=staged.table))
    if policy == ImportPolicy.UPDATE:
        # Every staged row was either inserted or met a stored contact (changed or not).
        return ChunkCounts(created=created, updated=staged.rows - created)
    return ChunkCounts(created=created, skipped=staged.rows - created)


def _tags_watched(staged: StagedChunk) -> list[Tag]:
    watched = tags_watched_among(staged.tags)
    return list(Tag.objects.filter(name__in=watched).order_by("name")) if watched else []


def _last_stored() -> int:
    """The newest contact's id before a merge: the ids the merge creates are past it (a sequence)."""
    return Contact.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


def _staged_contacts(table: str, last_stored: int, *, created: bool, tag: str | None = None) -> QuerySet[Contact]:
    """The chunk's contacts stored before the merge (created=False) or created by it, having `tag` among
    their staged tags when given."""
    contact = Contact._meta.db_table
    which = "c.id > %s" if created else "c.id <= %s"
    tagged, params = ("AND %s = ANY(s.tags)", [tag]) if tag is not None else ("", [])
    # A quoted table name and the staging table's own; every value is a parameter.
    staged = RawSQL(f"SELECT c.id FROM {contact} c JOIN {table} s ON c.email = s.email "  # noqa: S608, S611
                    f"WHERE {which} {tagged}", [last_stored, *params])
    return Contact.objects.filter(pk__in=staged)


def _tags_announce(tags: list[Tag], table: str, last_stored: int, *, created: bool) -> None:
    """The chunk's contacts about to get each tag, for tags_adding's listeners: before the merge the stored
    ones without it (their links not written yet); after it those the merge created, who had no tag
    before. The merge writes their links in its own statement, hence the two calls around it."""
    for tag in tags:
        tags_adding_send(tag, _staged_contacts(table, last_stored, created=created, tag=tag.name), untagged=created)


class Stager:
    """COPYs chunks on a second connection into two UNLOGGED tables of this run, in turn, so chunk
    N+1 is copied while the main connection merges chunk N from the other table (COPY was about a
    sixth of a chunk's database time, done before its merge could start).

    A temporary table belongs to one session, hence regular tables named per run (and per attempt:
    a second worker on the same run must not drop the first one's), created and dropped by this
    connection, only read by the main one. A table is written again only after the chunk read from
    it committed (`release`), so the TRUNCATE never waits on the main connection's lock. That is
    why an import inside an outer transaction (a request, a test) keeps the single-connection path:
    its chunks never commit. Tables left by a crash are dropped when the next run starts (those of
    runs that ended, or no longer exist). Autovacuum is off on them: with statistics of the true
    size the planner prefers hashing the whole contact table to probing its email index (see
    apply_chunk), and the tables are rewritten every other chunk anyway."""

    def __init__(self, run_id: int):
        token = secrets.token_hex(4)
        self.tables = tuple(f"{STAGE_PREFIX}{run_id}_{token}_{slot}" for slot in (0, 1))
        self._free = threading.Semaphore(len(self.tables))
        self._stopping = threading.Event()
        self._next = 0
        self._connection: psycopg.Connection | None = None

    def __enter__(self) -> "Stager":
        self._connection = psycopg.connect(**connection.get_connection_params(), autocommit=True)
        try:
            _drop_leftover_stages(self._connection)
            for table in self.tables:
                self._connection.execute(f"CREATE UNLOGGED TABLE {table} ({_STAGED_COLUMNS}) "
                                         "WITH (autovacuum_enabled = false)")
        except BaseException:
            self._connection.close()
            raise
        return self

    def stop(self) -> None:
        """Lets a `copy` waiting for a table give up (the import is ending)."""
        self._stopping.set()

    def __exit__(self, *exc_info) -> None:
        self.stop()
        try:
            for table in self.tables:
                self._connection.execute(f"DROP TABLE IF EXISTS {table}")
        finally:
            self._connection.close()

    def copy(self, staged: StagedChunk) -> bool:
        """Copies a chunk into the next table once the chunk last read from it has committed; runs in
        a reading thread. False when the import ends meanwhile."""
        while not self._free.acquire(timeout=0.1):
            if self._stopping.is_set():
                return False
        table = self.tables[self._next]
        self._next = (self._next + 1) % len(self.tables)
        self._write(table, staged.data)
        staged.table, staged.data = table, b""
        return True

    def _write(self, table: str, data: bytes) -> None:
        with self._connection.transaction(), self._connection.cursor() as cursor:
            cursor.execute(f"TRUNCATE {table}")
            with cursor.copy(_COPY.format(table=table)) as copy:
                copy.write(data)

    def release(self, staged: StagedChunk) -> None:
        """The chunk read from a Stager's table has committed: the table may be written again."""
        if staged.table != STAGING:
            self._free.release()


def _drop_leftover_stages(stage_connection) -> None:
    """Drops staging tables of runs that ended (or were deleted): left by a process that died."""
    tables = [name for (name,) in stage_connection.execute(
        "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() AND starts_with(tablename, %s)",
        [STAGE_PREFIX])]
    owners = {name: name[len(STAGE_PREFIX):].split("_")[0] for name in tables}
    live = {str(pk) for pk in ImportRun.objects.filter(pk__in=[int(o) for o in owners.values() if o.isdigit()])
            .exclude(status__in=RUN_TERMINAL).values_list("pk", flat=True)}
    for name, owner in owners.items():
        if owner not in live:
            stage_connection.execute(f"DROP TABLE IF EXISTS {name}")
