"""Turning one CSV record into a contact row, or into the reasons it cannot be one.

The limits are read from the Contact model, so a row that passes here fits the table; this runs
once per row in place of full_clean(), which would cost a query per row (unique check) and make
a million-row import take hours.
"""

import hashlib
import re
from dataclasses import dataclass, field

from aicmo_site.spreadsheets import spreadsheet_unquoted
from crm.imports.mapping import CONTACT_FIELDS, CUSTOM_PREFIX, TAGS, TOPICS
from crm.imports.reading import Record
from crm.models import Contact, Tag, Topic, time_zone_known

# Close to Django's EmailValidator (dot-atom local part, dotted domain of letters, digits and
# dashes, or an IDN), compiled once: the import checks every row with it.
_EMAIL = re.compile(
    r"^[a-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@(?:[a-z0-9\u00a1-\uffff](?:[a-z0-9\u00a1-\uffff-]{0,61}[a-z0-9\u00a1-\uffff])?\.)+"
    r"[a-z\u00a1-\uffff]{2,63}$"
)
_TAG_SPLIT = re.compile(r"[,;]")
# Personal mailboxes: their domain says nothing about the employer, so the company named in the
# file is kept as a custom field instead of creating a "gmail.com" company.
FREE_MAIL_DOMAINS = frozenset({
    "gmail.com", "googlemail.com", "yahoo.com", "yahoo.fr", "hotmail.com", "hotmail.fr", "outlook.com",
    "live.com", "msn.com", "aol.com", "icloud.com", "me.com", "mac.com", "gmx.de", "gmx.net", "web.de",
    "orange.fr", "free.fr", "laposte.net", "protonmail.com", "proton.me", "yandex.ru", "mail.ru", "qq.com",
})
SCALAR_FIELDS = tuple(name for name in CONTACT_FIELDS if name != "email")
_MAX_LENGTH = {name: Contact._meta.get_field(name).max_length for name in SCALAR_FIELDS if name != "company"}
_MAX_LENGTH["company"] = 200
_EMAIL_MAX = Contact._meta.get_field("email").max_length
_TAG_MAX = Tag._meta.get_field("name").max_length
_TAG_CELLS_KEPT = 10_000  # distinct tag cells remembered by a validator; past that it starts again


def erasure_hash(email: str) -> str:
    """What the suppression list keeps of an erased person's address: enough to recognise it, not to read it."""
    return "sha256:" + hashlib.sha256(email.strip().lower().encode()).hexdigest()


@dataclass(slots=True)
class ContactRow:
    line: int
    email: str
    domain: str
    values: dict[str, str] = field(default_factory=dict)  # non-blank scalar fields only
    custom: dict[str, str] = field(default_factory=dict)
    tags: frozenset[str] = frozenset()  # often one object shared by many rows: never changed in place
    topics: set[int] = field(default_factory=set)  # topic ids


@dataclass(frozen=True)
class RowError:
    line: int
    column: str
    value: str
    reason: str
    values: tuple[str, ...]


def topic_lookup() -> dict[str, int]:
    """Each topic's id under its lower-cased name and slug, read once per run: validation runs in the
    read-ahead thread, which must not query."""
    lookup = {}
    for pk, name, slug in Topic.objects.values_list("pk", "name", "slug"):
        lookup[name.lower()] = lookup[slug.lower()] = pk
    return lookup


class RowValidator:
    """Checks rows against the mapping; the columns are sorted by kind once, since this runs per row."""

    def __init__(self, *, headers: list[str], mapping: dict[str, str], run_tag: str = "",
                 erased_hashes: frozenset[str] = frozenset(), topics: dict[str, int] | None = None):
        """`topics` maps each topic's lower-cased name and slug to its id (see `topic_lookup`): a row
        names topics that exist, it never creates one."""
        self.width = len(headers)
        mapped = [(index, header, mapping[header]) for index, header in enumerate(headers) if mapping.get(header)]
        self.email_index, self.email_column = next((i, h) for i, h, target in mapped if target == "email")
        self.fields = [(i, h, target, _MAX_LENGTH[target]) for i, h, target in mapped if target in _MAX_LENGTH]
        self.tag_columns = [(i, h) for i, h, target in mapped if target == TAGS]
        self.topic_columns = [(i, h) for i, h, target in mapped if target == TOPICS]
        self.topics = topics or {}
        self.custom_columns = [(i, target[len(CUSTOM_PREFIX):]) for i, h, target in mapped
                               if target.startswith(CUSTOM_PREFIX)]
        self.run_tags = frozenset({run_tag} if run_tag else ())
        self.erased_hashes = erased_hashes
        self.tag_cells: dict[str, frozenset[str]] = {}

    def validate(self, record: Record) -> ContactRow | list[RowError]:
        values = record.values
        if record.error:
            return [self._error(record, "", "", record.error)]
        count = len(values)
        if count > self.width and any(v.strip() for v in values[self.width:]):
            return [self._error(record, "", "", f"The line has {count} cells but the header names "
                                                f"{self.width} columns (a delimiter inside a cell needs quotes).")]
        if count < self.width:
            # Short lines (trailing empty cells dropped by the spreadsheet) padded once, not checked per cell.
            values = values + [""] * (self.width - count)
        errors = []
        email = values[self.email_index].strip().lower()
        row = ContactRow(record.line, email, "", {}, {}, self.run_tags, set())
        fields = row.values
        for index, header, target, limit in self.fields:
            value = values[index].strip()
            if not value or target in fields:
                continue
            if value[0] == "'":
                value = spreadsheet_unquoted(value)
            if target == "linkedin_url" and not value.lower().startswith(("http://", "https://")):
                value = "https://" + value
            if len(value) > limit:
                reason = f"At most {limit} characters (this has {len(value)})."
                errors.append(self._error(record, header, value, reason))
            elif target == "linkedin_url" and "linkedin.com/" not in value.lower():
                errors.append(self._error(record, header, value,
                                          "Not a LinkedIn profile address (expected linkedin.com/in/...)."))
            elif target == "time_zone" and not time_zone_known(value):
                errors.append(self._error(record, header, value, "Not a time zone name such as Europe/Paris."))
            else:
                fields[target] = value
        for index, header in self.tag_columns:
            cell = values[index]
            named = self.tag_cells.get(cell)
            if named is None:
                named = self._tags(record, header, cell, errors)
            row.tags = named if row.tags is self.run_tags else row.tags | named
        for index, header in self.topic_columns:
            for name in _TAG_SPLIT.split(values[index]):
                name = name.strip()
                if not name:
                    continue
                topic = self.topics.get(name.lower())
                if topic is None:
                    errors.append(self._error(record, header, name, "No topic has this name or slug; "
                                                                    "add the topic first or fix the value."))
                else:
                    row.topics.add(topic)
        for index, name in self.custom_columns:
            value = values[index].strip()
            if value and name not in row.custom:
                row.custom[name] = spreadsheet_unquoted(value) if value[0] == "'" else value
        email_problem = self._email_problem(email)
        if email_problem:
            errors.insert(0, self._error(record, self.email_column, email, email_problem))
        if errors:
            return errors
        row.domain = email.rsplit("@", 1)[1]
        if row.domain in FREE_MAIL_DOMAINS and "company" in fields:
            row.custom.setdefault("company", fields.pop("company"))
        return row

    def _tags(self, record: Record, header: str, cell: str, errors: list[RowError]) -> frozenset[str]:
        """The run's tags and those a cell names. Remembered for the next rows with the same cell (a file's
        tag cells repeat: a few lists, a few combinations), unless a name is too long: that row's error
        is reported every time."""
        names, too_long = set(self.run_tags), False
        for name in _TAG_SPLIT.split(cell):
            name = name.strip()
            if len(name) > _TAG_MAX:
                errors.append(self._error(record, header, name, f"A tag has at most {_TAG_MAX} characters."))
                too_long = True
            elif name:
                names.add(name)
        tags = frozenset(names)
        if not too_long:
            if len(self.tag_cells) >= _TAG_CELLS_KEPT:
                self.tag_cells.clear()
            self.tag_cells[cell] = tags
        return tags

    def _email_problem(self, email: str) -> str:
        if not email:
            return "The email address is missing."
        if len(email) > _EMAIL_MAX or not _EMAIL.match(email):
            return "This is not a valid email address."
        if self.erased_hashes and erasure_hash(email) in self.erased_hashes:
            return "This person asked to be erased; their address is not imported again."
        return ""

    def _error(self, record: Record, column: str, value: str, reason: str) -> RowError:
        return RowError(line=record.line, column=column, value=value, reason=reason, values=tuple(record.values))
