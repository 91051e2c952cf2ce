"""Numbered contact pages deep in a million: seek from a remembered position instead of an OFFSET.

Page 872 of a filtered million made PostgreSQL find and skip every one of the 43,600 contacts before
it, twice (once to count as far as the page, once for the OFFSET): 574-767 ms (bench/NOTES.md). The
first deep page asked of a list (its filters and sort) numbers that list once and remembers, every
ANCHOR_EVERY rows, the sort key of the row there, and how many rows there are. A later page seeks
past the nearest such key (an index range) and skips fewer than ANCHOR_EVERY rows.

The positions are those of the moment they were taken. A new contact (a higher id than any
remembered) makes the next deep page number the list again; each edit or erasure since shifts the later
pages by one row at most until the positions expire (CRM_PAGE_ANCHOR_SECONDS), as an OFFSET page read
a moment earlier would have. Pages before DEEP_FROM rows never use them.
"""

import hashlib
from typing import NamedTuple

from django.conf import settings
from django.core.cache import cache
from django.db.models import Count, F, Field, Func, Max, Q, QuerySet, Value, Window
from django.db.models.functions import RowNumber

from aicmo_site.env import env_int
from crm.models import Contact

# Pages from this row on are sought (the first 1,000 rows cost little to skip, and numbering a list costs
# as much as reading it once); a remembered row every ANCHOR_EVERY rows leaves fewer than that to skip:
# at 1,000, skipping them read about 15,000 contacts of a list with two filters (bench crm_contact_list).
DEEP_FROM = 1_000
ANCHOR_EVERY = 250
# Sort keys a seek may compare: the contact's own columns, never NULL (a company name may be absent).
SEEKABLE = frozenset({"created_at", "engagement_score", "email", "last_name", "lifecycle_status", "id", "pk"})


def anchor_seconds() -> int:
    """How long a list's remembered positions serve deep pages before it is numbered again."""
    return getattr(settings, "CRM_PAGE_ANCHOR_SECONDS", env_int("CRM_PAGE_ANCHOR_SECONDS", 300, minimum=0))


class PageAnchors(NamedTuple):
    total: int  # how many contacts the list had when numbered
    keys: list[tuple]  # keys[k]: the sort key of row (k + 1) * ANCHOR_EVERY, counting from 1


def _sort(queryset: QuerySet) -> list[tuple[str, bool]] | None:
    """The list's sort as (field, descending) pairs, or None when a seek cannot follow it."""
    ordering = queryset.query.order_by or Contact._meta.ordering
    fields = []
    for term in ordering:
        name = term.lstrip("-") if isinstance(term, str) else None
        if name not in SEEKABLE:
            return None
        fields.append(("id" if name == "pk" else name, term.startswith("-")))
    return fields if fields and fields[-1][0] == "id" else None


def list_anchors(queryset: QuerySet) -> PageAnchors | None:
    """The list's remembered positions (numbering it now if there are none, or a contact was added since),
    or None when its sort cannot be sought or remembering is turned off."""
    fields = _sort(queryset)
    seconds = anchor_seconds()
    if fields is None or not seconds:
        return None
    listed = queryset.order_by(*[f"-{name}" if descending else name for name, descending in fields])
    listed.query.clear_limits()
    sql, params = listed.values("pk").query.sql_with_params()
    key = "crm:page-anchors:" + hashlib.sha256(repr((listed.db, sql, params)).encode()).hexdigest()
    newest = Contact.objects.aggregate(newest=Max("pk"))["newest"]
    remembered = cache.get(key)
    if remembered is not None and remembered[0] == newest:
        return PageAnchors(*remembered[1])
    names = [name for name, _ in fields]
    numbered = listed.annotate(
        anchor_position=Window(RowNumber(), order_by=[F(name).desc() if descending else F(name).asc()
                                                      for name, descending in fields]),
        anchor_total=Window(Count("pk")),
    ).annotate(anchor_rest=F("anchor_position") % ANCHOR_EVERY)
    # Only every ANCHOR_EVERY-th row (and the last, for the total) leaves the database.
    rows = list(numbered.filter(Q(anchor_rest=0) | Q(anchor_position=F("anchor_total")))
                .values_list("anchor_position", "anchor_total", *names).order_by("anchor_position"))
    total = rows[-1][1] if rows else 0
    keys = [tuple(row[2:]) for row in rows if row[0] % ANCHOR_EVERY == 0]
    found = PageAnchors(total, keys)
    cache.set(key, (newest, tuple(found)), seconds)
    return found


class _Row(Func):
    """A row value, (a, b): compared whole, PostgreSQL reads an index on (a, b) from that row on."""

    template = "(%(expressions)s)"
    output_field = Field()


def _past(queryset: QuerySet, fields: list[tuple[str, bool]], key: tuple) -> QuerySet:
    """The rows after `key` in the sort. One direction throughout (every sort the lists offer: a field, then
    the id the same way) compares rows, (a, b) < (x, y), which an index on (a, b) answers from that row on;
    otherwise (a > x) or (a = x and b > y) and so on."""
    directions = {descending for _, descending in fields}
    if len(directions) == 1:
        lookup = "lt" if directions.pop() else "gt"
        return queryset.alias(anchor_key=_Row(*[F(name) for name, _ in fields])).filter(
            **{f"anchor_key__{lookup}": _Row(*[Value(value) for value in key])})
    after = Q()
    for position, (name, descending) in enumerate(fields):
        step = Q(**{f"{name}__{'lt' if descending else 'gt'}": key[position]})
        for before, (earlier, _) in enumerate(fields[:position]):
            step &= Q(**{earlier: key[before]})
        after |= step
    return queryset.filter(after)


def seek_page(queryset: QuerySet, anchors: PageAnchors, offset: int, limit: int) -> QuerySet:
    """queryset[offset:offset + limit], read from the nearest remembered row before it."""
    fields = _sort(queryset)
    passed = min(offset // ANCHOR_EVERY, len(anchors.keys))
    if not passed:
        return queryset[offset:offset + limit]
    start = offset - passed * ANCHOR_EVERY
    return _past(queryset, fields, anchors.keys[passed - 1])[start:start + limit]
