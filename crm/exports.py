"""CSV export of contacts: a segment, a filtered list or any queryset, streamed row by row.

The headers are the ones the import maps automatically (custom fields as "custom:<name>"), so
an export can be edited in a spreadsheet and imported back.
"""

from collections.abc import Iterable, Iterator
from operator import attrgetter

from django.db.models import QuerySet
from django.http import StreamingHttpResponse

from aicmo_site.spreadsheets import csv_writer
from crm.imports import conf
from crm.models import Contact
from crm.selectors import contacts_exported

COLUMNS = (
    ("Email", attrgetter("email")), ("First Name", attrgetter("first_name")),
    ("Last Name", attrgetter("last_name")), ("Job Title", attrgetter("job_title")), ("Phone", attrgetter("phone")),
    ("Company", attrgetter("company_name")), ("Company Domain", attrgetter("company_domain")),
    ("LinkedIn URL", attrgetter("linkedin_url")), ("City", attrgetter("city")), ("Country", attrgetter("country")),
    ("Source", attrgetter("source")), ("Lifecycle", attrgetter("lifecycle_status")),
    ("Email Status", attrgetter("email_status")), ("Consent", attrgetter("consent_status")),
    ("Engagement Score", attrgetter("engagement_score")), ("Engagement Tier", attrgetter("engagement_tier")),
    ("Tags", lambda contact: "; ".join(sorted(contact.tag_names))),
    ("Created", lambda contact: contact.created_at.isoformat()),
    ("Updated", lambda contact: contact.updated_at.isoformat()),
)


class _Echo:
    """csv.writer writes into this and gets the line back, so nothing accumulates in memory."""

    def write(self, value: str) -> str:
        return value


def _custom_keys(queryset: QuerySet[Contact]) -> list[str]:
    keys: set[str] = set()
    values_with_custom = queryset.prefetch_related(None).exclude(custom_fields={}).values_list("custom_fields",
                                                                                               flat=True)
    for values in values_with_custom.iterator(chunk_size=conf.export_chunk_rows()):
        if isinstance(values, dict):
            keys.update(values)
    return sorted(keys)


def contacts_csv_rows(queryset: QuerySet[Contact]) -> Iterator[list]:
    """The header, then one list per contact. Two statements whatever the size: the custom field names, then
    the contacts with their company and tag names in each row, read a chunk at a time (a server-side cursor on
    PostgreSQL), so memory stays flat."""
    custom = _custom_keys(queryset)
    yield [header for header, _ in COLUMNS] + [f"custom:{key}" for key in custom]
    for contact in contacts_exported(queryset).iterator(chunk_size=conf.export_chunk_rows()):
        fields = contact.custom_fields if isinstance(contact.custom_fields, dict) else {}
        yield [value(contact) for _, value in COLUMNS] + [_cell(fields.get(key, "")) for key in custom]


def _cell(value) -> str:
    return value if isinstance(value, str) else ("" if value is None else str(value))


def csv_lines(rows: Iterable[list]) -> Iterator[str]:
    writer = csv_writer(_Echo())
    yield "\ufeff"  # byte-order mark: spreadsheets then read accented names correctly
    for row in rows:
        yield writer.writerow(row)


def contacts_csv_response(queryset: QuerySet[Contact], filename: str = "contacts.csv") -> StreamingHttpResponse:
    """A streamed CSV download of the given contacts (used by the admin action, the API and the pages)."""
    safe = "".join(c for c in filename if c.isalnum() or c in "._- ") or "contacts.csv"
    response = StreamingHttpResponse(csv_lines(contacts_csv_rows(queryset)), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{safe}"'
    return response
