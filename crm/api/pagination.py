"""Contact pages that stay fast at a million contacts.

An exact COUNT(*) over every matching contact was most of a page's time, so a page counts at most
COUNT_AT_MOST rows (or up to the end of the requested page, whichever is further) and says
`count_capped: true` when there are more. Deep pages are better read with `?cursor=` (keyset
pagination, newest first), which costs the same on page 1 and page 10,000 and counts nothing.
"""

from django.core.paginator import InvalidPage, Paginator
from django.utils.functional import cached_property
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import CursorPagination
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param

from aicmo_site.api.pagination import StandardPagination
from crm import selectors, services
from crm.page_anchors import list_anchors

# A count stops here: counting ten times more costs ten times more at a million contacts (bench/NOTES.md).
COUNT_AT_MOST = 1_000


class CappedCountPaginator(Paginator):
    """Counts `SELECT count(*) FROM (SELECT id ... LIMIT count_at_most + 1)`: the +1 tells "more"."""

    count_at_most = COUNT_AT_MOST
    capped = False
    counter = None  # counter(at_most) counts in place of the queryset (a segment's compiled count)

    @cached_property
    def count(self) -> int:
        # Deep pages count from the list's remembered positions (crm.page_anchors), which number it whole.
        anchors = list_anchors(self.object_list) if self.count_at_most > COUNT_AT_MOST else None
        if anchors is not None:
            counted = anchors.total
        elif self.counter is not None:
            counted = self.counter(self.count_at_most + 1)
        else:
            counted = self.object_list.order_by().values("pk")[: self.count_at_most + 1].count()
        self.capped = counted > self.count_at_most
        return min(counted, self.count_at_most)


class NewestFirstCursorPagination(CursorPagination):
    """Keyset pages over (created_at, id), newest first."""

    ordering = ("-created_at", "-id")
    page_size = StandardPagination.page_size
    page_size_query_param = StandardPagination.page_size_query_param
    max_page_size = StandardPagination.max_page_size


class ContactPagination(StandardPagination):
    """Page numbers with a capped count (the default), or keyset pages when `cursor` is given."""

    django_paginator_class = CappedCountPaginator
    cursor_query_param = NewestFirstCursorPagination.cursor_query_param

    def paginate_queryset(self, queryset, request, view=None, rows=None, count=None):
        """`rows(offset, limit)` and `count(at_most)`, when given, list a numbered page and count in place of the
        queryset (which still gives the cursor pages): a segment's members come from statements compiled once."""
        self.cursor = None
        if self.cursor_query_param in request.query_params:
            if request.query_params.get("ordering"):
                raise ValidationError({"ordering": ["Cursor pages are always newest first: leave out ordering."]})
            self.cursor = NewestFirstCursorPagination()
            return self.cursor.paginate_queryset(queryset, request, view)
        page_size = self.get_page_size(request)
        paginator = self.django_paginator_class(queryset, page_size)
        paginator.counter = count
        asked = request.query_params.get(self.page_query_param, "1")
        # Counting up to the end of the asked page keeps every page reachable by number.
        # (A page number past a billion is no page: it is refused below, and must not reach the count's LIMIT.)
        reachable = asked.isdigit() and len(asked) < 10
        paginator.count_at_most = max(COUNT_AT_MOST, int(asked) * page_size if reachable else 0)
        try:
            self.page = paginator.page(self.get_page_number(request, paginator))
        except InvalidPage as error:
            raise NotFound(self.invalid_page_message.format(page_number=asked, message=str(error))) from error
        self.request = request
        if rows is not None:
            sliced = self.page.object_list.query
            return rows(sliced.low_mark, sliced.high_mark - sliced.low_mark)
        listed = list(selectors.contacts_page(self.page.object_list))
        if paginator.capped:  # more than the count's cap: far pages, whose positions are numbered in the background
            services.contact_list_numbering_queue(self.page.object_list, request.query_params)
        return listed

    def get_paginated_response(self, data):
        if self.cursor is not None:
            return self.cursor.get_paginated_response(data)
        paginator = self.page.paginator
        return Response({
            "count": paginator.count,
            "count_capped": paginator.capped,
            "next": self.get_next_link(),
            "previous": self.get_previous_link(),
            "results": data,
        })

    def get_next_link(self):
        if not self.page.has_next() and self.page.paginator.capped:
            # The last page counted, but more match: the next number is still a valid page.
            return replace_query_param(self.request.build_absolute_uri(), self.page_query_param,
                                       self.page.number + 1)
        return super().get_next_link()

    def get_schema_operation_parameters(self, view):
        return [*super().get_schema_operation_parameters(view), {
            "name": self.cursor_query_param, "required": False, "in": "query", "schema": {"type": "string"},
            "description": "Keyset pages, newest first, without a count: give it empty for the first page, "
                           "then follow next",
        }]

    def get_paginated_response_schema(self, schema):
        described = super().get_paginated_response_schema(schema)
        # Keyset (cursor) pages carry no count.
        described["required"] = ["results"]
        described["properties"]["count_capped"] = {
            "type": "boolean", "description": f"True when more than the count match (counted up to {COUNT_AT_MOST:,})",
        }
        return described
