"""Numbered contact pages deep in a million: seek from a remembered position instead of an OFFSET.

Page 872 of a filtered million made PostgreSQL find and skip every one of the 43,600 contacts before
it, twice (once to count as far as the page, once for the OFFSET): 574-767 ms (bench/NOTES.md). The
first deep page asked of a list (its filters and sort) numbers that list once and remembers, every
ANCHOR_EVERY rows, the sort key of the row there, and how many rows there are. A later page seeks
past the nearest such key (an index range) and skips fewer than ANCHOR_EVERY rows.

Contacts added to the list since (ids above any it had) are placed among the remembered rows by their
sort keys, so pages stay exact as the list grows, without numbering it again: that took 2.5-10 s at a
million under load, and imports and forms add contacts all day. Each edit or erasure since shifts the
later pages by one row at most until the positions expire (CRM_PAGE_ANCHOR_SECONDS), as an OFFSET page
read a moment earlier would have. Pages before DEEP_FROM rows never use them.

Numbering reads the whole list once (0.5-1.1 s at a million on an idle machine), so the request that needs it
rarely does it: an earlier page of a list with far pages queues its numbering (anchors_queue), and a scheduled
task keeps the unfiltered lists numbered (crm.tasks.page_anchors_keep_task). A far page asked before either has
run numbers its list itself, as before; it never waits for the background one.
"""

import hashlib
from bisect import bisect_right
from functools import cmp_to_key, partial
from typing import NamedTuple

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import EmptyResultSet
from django.db.models import F, Field, Func, Max, OrderBy, Q, QuerySet, Value, Window
from django.db.models.functions import Lead, RowNumber
from django_q.tasks import async_task

from aicmo_site.caching import cache_shared
from aicmo_site.env import env_int
from crm.models import Contact, last_activity_key

# Pages from this row on are sought (the first 1,000 rows cost little to skip, and numbering a list costs
# as much as reading it once); a remembered row every ANCHOR_EVERY rows leaves fewer than that to skip:
# at 1,000, skipping them read about 15,000 contacts of a list with two filters (bench crm_contact_list).
DEEP_FROM = 1_000
ANCHOR_EVERY = 250
# Contacts added to a list since it was numbered are placed among its remembered rows by their sort keys,
# up to this many; past it, or in a list sorted by text, it is numbered again.
ADDED_AT_MOST = 1_000
TEXT_SORTS = frozenset({"email", "last_name", "lifecycle_status"})
# Sort keys a seek may compare: the contact's own columns, never NULL (a company name may be absent).
SEEKABLE = frozenset({"created_at", "engagement_score", "email", "last_name", "lifecycle_status", "id", "pk"})
# The last activity is sorted by an expression (crm.models.last_activity_key, never NULL), remembered and sought
# under this name.
ACTIVITY_KEY = "anchor_last_activity"
# Marks a list whose numbering is queued (a suffix of its key): one queued numbering per list at a time.
QUEUED = ":queued"


def anchor_seconds() -> int:
    """How long a list's remembered positions serve deep pages before it is numbered again."""
    return getattr(settings, "CRM_PAGE_ANCHOR_SECONDS", env_int("CRM_PAGE_ANCHOR_SECONDS", 300, minimum=0))


class PageAnchors(NamedTuple):
    total: int  # how many contacts the list has
    keys: tuple  # the sort keys of every ANCHOR_EVERY-th row when the list was numbered
    positions: tuple  # where each of those rows is now, counting from 1
    newest: int  # the highest contact id in the list when it was numbered


def _sort(queryset: QuerySet) -> list[tuple[str, bool]] | None:
    """The list's sort as (field, descending) pairs, or None when a seek cannot follow it."""
    ordering = queryset.query.order_by or Contact._meta.ordering
    fields = []
    for term in ordering:
        if isinstance(term, OrderBy) and term.expression == last_activity_key(descending=term.descending):
            fields.append((ACTIVITY_KEY, term.descending))
            continue
        name = term.lstrip("-") if isinstance(term, str) else None
        if name not in SEEKABLE:
            return None
        fields.append(("id" if name == "pk" else name, term.startswith("-")))
    return fields if fields and fields[-1][0] == "id" else None


def _keyed(queryset: QuerySet, fields: list[tuple[str, bool]]) -> QuerySet:
    """The queryset with the sort keys computed by an expression named, so they can be read and compared."""
    for name, descending in fields:
        if name == ACTIVITY_KEY:
            return queryset.annotate(**{ACTIVITY_KEY: last_activity_key(descending=descending)})
    return queryset


def _listed(queryset: QuerySet) -> tuple[QuerySet, list[tuple[str, bool]], str] | None:
    """The list in its sort (keys named), its sort, and the cache key of its remembered positions; None when its
    sort cannot be sought, it can have no contact, or remembering is turned off."""
    fields = _sort(queryset) if queryset.model is Contact else None
    if fields is None or not anchor_seconds():
        return None
    listed = _keyed(queryset, fields).order_by(*[f"-{name}" if descending else name for name, descending in fields])
    listed.query.clear_limits()
    try:
        sql, params = listed.values("pk").query.sql_with_params()
    except EmptyResultSet:  # a list that can have no contact (filters gone invalid: none()) has no far pages
        return None
    return listed, fields, "crm:page-anchors:" + hashlib.sha256(repr((listed.db, sql, params)).encode()).hexdigest()


def list_anchors(queryset: QuerySet, *, renumber: bool = False) -> PageAnchors | None:
    """The list's remembered positions, moved past the contacts added to it since (or numbered now when there
    are none, too many added, it is sorted by text, or `renumber`), or None when its sort cannot be sought or
    remembering is turned off."""
    prepared = _listed(queryset)
    if prepared is None:
        return None
    listed, fields, key = prepared
    names = [name for name, _ in fields]
    remembered = None if renumber else cache.get(key)
    if remembered is not None:
        found = PageAnchors(*remembered)
        added = list(listed.filter(pk__gt=found.newest).values_list(*names)[:ADDED_AT_MOST + 1])
        if not added:
            return found
        # Text sorts by the database's collation, which Python's comparison may not follow.
        if len(added) <= ADDED_AT_MOST and fields[0][0] not in TEXT_SORTS:
            return _moved(found, fields, added)
    rows = _numbered(listed, fields)
    kept = [row for row in rows if row[0] % ANCHOR_EVERY == 0]
    found = PageAnchors(rows[-1][0] if rows else 0, tuple(tuple(row[3:]) for row in kept),
                        tuple(row[0] for row in kept), rows[-1][1] if rows else 0)
    cache.set(key, tuple(found), anchor_seconds())
    cache.delete(key + QUEUED)
    return found


def anchors_queue(queryset: QuerySet, filters: dict[str, list[str]]) -> bool:
    """Queues the numbering of the list `filters` select (django-q; once per list until it is numbered or the
    mark expires) when its positions are not remembered, so that a jump to a far page finds them: numbering a
    million contacts in the request took 0.5-1.1 s on an idle machine (bench/NOTES.md). The request itself never
    waits for it: a far page asked before the positions exist numbers its list as before. Nothing is queued when
    the cache is the process's own, where a worker's positions would never reach the pages."""
    prepared = _listed(queryset) if cache_shared() else None
    if prepared is None:
        return False
    key = prepared[2]
    if cache.get(key) is not None or not cache.add(key + QUEUED, True, anchor_seconds()):
        return False
    # Its filters (a query string's), from which the worker builds the same list: a query does not pickle (the
    # listed tags come through an auto-created model).
    async_task("crm.tasks.page_anchors_number_task", filters)
    return True


def _numbered(listed: QuerySet, fields: list[tuple[str, bool]]) -> list[tuple]:
    """(position, highest id so far, next id, *sort keys) of every ANCHOR_EVERY-th row of the list and of its last
    one (no next id: its position is the total, its highest id the list's newest), in one pass in the list's order.
    A count and a maximum over the whole list (COUNT(*) OVER ()) kept all its rows in a tuplestore spilled to
    disk, and sorting the result by position in the database sorted all of them again, not the few kept
    (bench/NOTES.md)."""
    in_order = [F(name).desc() if descending else F(name).asc() for name, descending in fields]
    numbered = listed.annotate(
        anchor_position=Window(RowNumber(), order_by=in_order),
        anchor_newest=Window(Max("pk"), order_by=in_order),
        anchor_next=Window(Lead("pk"), order_by=in_order),
    ).annotate(anchor_rest=F("anchor_position") % ANCHOR_EVERY)
    return sorted(numbered.filter(Q(anchor_rest=0) | Q(anchor_next__isnull=True)).order_by()
                  .values_list("anchor_position", "anchor_newest", "anchor_next", *[name for name, _ in fields]))


def _compare(fields: list[tuple[str, bool]], one: tuple, other: tuple) -> int:
    """-1 when `one` comes before `other` in the sort, 1 after, 0 for the same row."""
    for mine, theirs, (_, descending) in zip(one, other, fields, strict=True):
        if mine != theirs:
            return -1 if (mine > theirs) == descending else 1
    return 0


def _moved(found: PageAnchors, fields: list[tuple[str, bool]], added: list[tuple]) -> PageAnchors:
    """The positions once `added` (new contacts' sort keys) are in the list: each row after some of them has
    moved down by as many."""
    added.sort(key=cmp_to_key(partial(_compare, fields)))
    positions, before = [], 0
    for key, position in zip(found.keys, found.positions, strict=True):
        while before < len(added) and _compare(fields, added[before], key) < 0:
            before += 1
        positions.append(position + before)
    return found._replace(total=found.total + len(added), positions=tuple(positions))


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
    nearest = bisect_right(anchors.positions, offset) - 1  # the last one at or before the page's first row
    if nearest < 0:
        return queryset[offset:offset + limit]
    start = offset - anchors.positions[nearest]
    fields = _sort(queryset)
    return _past(_keyed(queryset, fields), fields, anchors.keys[nearest])[start:start + limit]
