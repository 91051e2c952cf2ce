"""Contact lists numbered in the background, so that a jump to a far page finds its positions (crm.page_anchors)."""

from django.db.models import QuerySet
from django.http import QueryDict

from crm import page_anchors
from crm.filters import ContactFilterSet
from crm.models import Contact


def contact_list_numbering_queue(page: QuerySet[Contact], filters: QueryDict) -> bool:
    """Queues the numbering of the list an early page (before DEEP_FROM rows) belongs to; `filters` is the list's
    query string, from which the worker builds the same list. A far page finds the positions or numbers the list
    itself: it queues nothing."""
    if page.query.low_mark >= page_anchors.DEEP_FROM:
        return False
    whole = page.all()
    whole.query.clear_limits()
    return page_anchors.anchors_queue(
        whole, {name: filters.getlist(name) for name in filters if name in ContactFilterSet.base_filters})
