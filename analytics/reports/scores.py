"""Reading the scores list: its length comes from the tier counts scoring keeps, not from counting.

Counting a million scores took about 100 ms a page at 1M contacts (and more under load), where the
page itself is read from the (score, contact) or (tier, score, contact) index in under a millisecond.
The tier counts are exact after each full run; a contact deleted since then is still counted until
the next one, so a last page can come out a little short.
"""

from django.core.paginator import Paginator
from django.db.models import Sum
from django.utils.functional import cached_property

from analytics.models import ScoreTierCount


def scores_count(*, tiers=()) -> int:
    """How many contacts are scored, in the given tiers (all when none are given)."""
    counts = ScoreTierCount.objects.filter(tier__in=tiers) if tiers else ScoreTierCount.objects.all()
    return counts.aggregate(n=Sum("contacts"))["n"] or 0


class KnownCountPaginator(Paginator):
    """A Paginator told its count instead of running COUNT(*)."""

    def __init__(self, object_list, per_page, *args, known_count: int, **kwargs):
        self.known_count = known_count
        super().__init__(object_list, per_page, *args, **kwargs)

    @cached_property
    def count(self) -> int:
        return self.known_count
