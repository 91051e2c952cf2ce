"""The portable path (SQLite, or any database): bulk ORM statements per chunk.

Per chunk: one read of the stored contacts, one bulk insert, one bulk update, and set-based tag
inserts; never a query per row.
"""

from collections.abc import Callable

from django.db.models import QuerySet
from django.utils import timezone

from crm.choices import FieldSource, ImportPolicy
from crm.imports.merging import ChunkCounts, custom_source_key, is_manual, new_contact_sources
from crm.imports.validating import SCALAR_FIELDS, ContactRow
from crm.models import Company, Contact, Tag, Topic
from crm.tagging import tags_adding_send

CHUNK_ROWS = 500
# Told a chunk's created and updated contacts (querysets) inside its transaction.
Imported = Callable[[QuerySet[Contact], QuerySet[Contact]], None]
_UPDATED_FIELDS = [*(f for f in SCALAR_FIELDS if f != "company"), "company", "custom_fields", "field_sources",
                   "updated_at"]


def _companies(rows: list[ContactRow]) -> dict[str, Company]:
    """The company of each row's email domain, created when the file names one."""
    named = {row.domain: row.values["company"] for row in rows if row.values.get("company")}
    Company.objects.bulk_create([Company(domain=domain, name=name) for domain, name in named.items()],
                                ignore_conflicts=True)
    companies = {c.domain: c for c in Company.objects.filter(domain__in={row.domain for row in rows})}
    unnamed = [c for c in companies.values() if not c.name]
    for company in unnamed:
        company.name = named[company.domain]
    Company.objects.bulk_update(unnamed, ["name"])
    return companies


def _apply(contact: Contact, row: ContactRow, companies: dict[str, Company]) -> None:
    sources = contact.field_sources
    for name, value in row.values.items():
        if is_manual(sources, name):
            continue
        sources[name] = FieldSource.IMPORT
        if name == "company":
            contact.company = companies[row.domain]
        else:
            setattr(contact, name, value)
    for name, value in row.custom.items():
        key = custom_source_key(name)
        if not is_manual(sources, key):
            contact.custom_fields[name] = value
            sources[key] = FieldSource.IMPORT


def prepare(rows: list[ContactRow]) -> list[ContactRow]:
    """Nothing to get ready outside the database on this path."""
    return rows


def apply_chunk(rows: list[ContactRow], *, policy: str, imported: Imported | None = None) -> ChunkCounts:
    """`imported`, when given, is told the chunk's created and updated contacts before the chunk commits."""
    counts = ChunkCounts()
    existing = {c.email: c for c in Contact.objects.filter(email__in=[row.email for row in rows])}
    companies = _companies(rows)
    now = timezone.now()
    new, changed = [], []
    for row in rows:
        contact = existing.get(row.email)
        if contact is None:
            contact = Contact(email=row.email, domain=row.domain, source="import", field_sources={},
                              custom_fields={}, company=companies.get(row.domain))
            _apply(contact, row, companies)
            contact.field_sources = new_contact_sources(row)
            new.append(contact)
        elif policy == ImportPolicy.UPDATE:
            _apply(contact, row, companies)
            contact.updated_at = now
            changed.append(contact)
        else:
            counts.skipped += 1
    Contact.objects.bulk_create(new)
    Contact.objects.bulk_update(changed, _UPDATED_FIELDS)
    counts.created, counts.updated = len(new), len(changed)
    contact_ids = {c.email: c.pk for c in (*existing.values(), *new)}
    _tag(rows, contact_ids)
    _link_topics(rows, contact_ids)
    if imported is not None:
        imported(Contact.objects.filter(pk__in=[c.pk for c in new]),
                 Contact.objects.filter(pk__in=[c.pk for c in changed]))
    return counts


def _tag(rows: list[ContactRow], contact_ids: dict[str, int]) -> None:
    names = set().union(*(row.tags for row in rows))
    if not names:
        return
    Tag.objects.bulk_create([Tag(name=name) for name in names], ignore_conflicts=True)
    tags = Tag.objects.filter(name__in=names).in_bulk(field_name="name")
    for name, tag in tags.items():
        tags_adding_send(tag, Contact.objects.filter(pk__in={contact_ids[row.email] for row in rows
                                                             if name in row.tags}))
    tag_ids = {name: tag.pk for name, tag in tags.items()}
    through = Contact.tags.through
    links = [through(contact_id=contact_ids[row.email], tag_id=tag_ids[name]) for row in rows for name in row.tags]
    through.objects.bulk_create(links, ignore_conflicts=True)


def _link_topics(rows: list[ContactRow], contact_ids: dict[str, int]) -> None:
    wanted = set().union(*(row.topics for row in rows))
    if not wanted:
        return
    # Read again: a topic deleted since the run started gets no link (the table has no foreign key).
    existing = set(Topic.objects.filter(pk__in=wanted).values_list("pk", flat=True))
    through = Contact.topics.through
    links = [through(contact_id=contact_ids[row.email], topic_id=topic) for row in rows for topic in row.topics
             if topic in existing]
    through.objects.bulk_create(links, ignore_conflicts=True)
