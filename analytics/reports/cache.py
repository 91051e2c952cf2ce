"""Roll-up reads cached until the next fold.

Roll-ups change only when a fold or a rebuild runs, and every dashboard request sums the same
few thousand rows again, so the sums are kept under a key that holds the fold checkpoint (last
event id and fold time): the first read after a fold misses and recomputes. Score tier counts
need no cache: scoring keeps them in a table of four rows. A campaign's reach (distinct contacts,
read from the events) is kept with the roll-up it is shown beside, so its rates mix no two
moments. Cohorts, attribution and live state (lag, A/B tests) are never cached.
"""

import hashlib

from django.core.cache import cache

from analytics import conf
from analytics.models import FoldCheckpoint
from analytics.services.rollups import CAMPAIGN_DAY_FOLD


def fold_state() -> tuple | None:
    """(last event id folded, time of that fold), or None before the first fold."""
    return FoldCheckpoint.objects.filter(name=CAMPAIGN_DAY_FOLD).values_list("last_id", "folded_at").first()


_UNREAD = object()


def fold_cached(name: str, compute, *, checkpoint=_UNREAD, **params):
    """compute() cached until the next fold; `checkpoint`, when the caller has read fold_state() already."""
    seconds = conf.report_cache_seconds()
    if not seconds:
        return compute()
    state = fold_state() if checkpoint is _UNREAD else checkpoint
    if state is None or state[1] is None:
        return compute()
    fingerprint = repr((name, sorted(params.items()), state[0], state[1].isoformat()))
    key = "analytics:rollup:" + hashlib.sha256(fingerprint.encode()).hexdigest()
    found = cache.get(key)
    if found is None:
        found = compute()
        cache.set(key, found, seconds)
    return found
