"""How rows meet: duplicates inside a chunk of the file, then the contacts already stored.

The rule, the same on both database paths:
- A value that is blank in the file never erases anything.
- policy "update": a later row (or the file, against the database) overwrites fields, except a
  field whose source is "manual" (a person typed it): that one is never overwritten. Fields the
  import writes are marked "import" in field_sources.
- policy "skip_existing": the first row for an address wins; later rows for it and contacts
  already stored are left as they are.
- Tags (the row's and the run's) are added to every contact the file names, whatever the policy:
  they record that the person was on this list, and adding one overwrites nothing. Topics of
  interest likewise: a file adds topics and never removes one (only the contact's own choice in the
  preference centre, or a person through contact_topics_set, takes one away).
Each data row lands in exactly one count: created, updated, skipped or failed.
"""

from dataclasses import dataclass

from crm.choices import FieldSource, ImportPolicy
from crm.imports.validating import ContactRow


@dataclass
class ChunkCounts:
    created: int = 0
    updated: int = 0
    skipped: int = 0

    def __iadd__(self, other: "ChunkCounts") -> "ChunkCounts":
        self.created += other.created
        self.updated += other.updated
        self.skipped += other.skipped
        return self


def custom_source_key(name: str) -> str:
    return f"custom:{name}"


def fold_duplicates(rows: list[ContactRow], policy: str) -> tuple[list[ContactRow], ChunkCounts]:
    """One row per address, in first-seen order; the folded rows are counted as updated or skipped."""
    by_email: dict[str, ContactRow] = {}
    counts = ChunkCounts()
    for row in rows:
        first = by_email.get(row.email)
        if first is None:
            by_email[row.email] = row
            continue
        first.tags |= row.tags
        first.topics |= row.topics
        if policy == ImportPolicy.UPDATE:
            first.values.update(row.values)
            first.custom.update(row.custom)
            counts.updated += 1
        else:
            counts.skipped += 1
    return list(by_email.values()), counts


def is_manual(sources: dict, field: str) -> bool:
    if field.startswith("custom:"):
        return sources.get(field) == FieldSource.MANUAL or sources.get("custom_fields") == FieldSource.MANUAL
    return sources.get(field) == FieldSource.MANUAL


def new_contact_sources(row: ContactRow) -> dict[str, str]:
    sources = dict.fromkeys(row.values, FieldSource.IMPORT)
    sources.update(dict.fromkeys((custom_source_key(name) for name in row.custom), FieldSource.IMPORT))
    return sources
