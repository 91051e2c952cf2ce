"""Roll-up reads cached until the next fold.

Roll-ups change only when a fold or a rebuild runs, and every dashboard request sums the same
few thousand rows again, so the sums are kept under a key that holds the fold checkpoint (last
event id and fold time): the first read after a fold misses and recomputes. Score tier counts
need no cache: scoring keeps them in a table of four rows, read with the checkpoint. A campaign's
reach (distinct contacts, read from the events) is kept with the roll-up it is shown beside, so its
rates mix no two moments. Cohorts, attribution and live state (lag, A/B tests, a campaign's name and
budget) are never cached; a cached page reads them and the checkpoint in one query where it can.
"""

import hashlib

from django.core.cache import cache
from django.db.models import Subquery

from analytics import conf
from analytics.models import FoldCheckpoint
from analytics.services.rollups import CAMPAIGN_DAY_FOLD


def fold_state() -> tuple | None:
    """(last event id folded, time of that fold), or None before the first fold."""
    return FoldCheckpoint.objects.filter(name=CAMPAIGN_DAY_FOLD).values_list("last_id", "folded_at").first()


def fold_state_subqueries(prefix: str = "fold_") -> dict:
    """fold_state as annotations of another query (`<prefix>last_id`, `<prefix>folded_at`): a cached page
    reads it with what it reads live, in one round trip (under load each round trip waits its turn)."""
    checkpoint = FoldCheckpoint.objects.filter(name=CAMPAIGN_DAY_FOLD)
    return {f"{prefix}{field}": Subquery(checkpoint.values(field)[:1]) for field in ("last_id", "folded_at")}


def fold_state_of(row: dict, prefix: str = "fold_") -> tuple | None:
    """fold_state from a row read with fold_state_subqueries."""
    last_id = row[f"{prefix}last_id"]
    return None if last_id is None else (last_id, row[f"{prefix}folded_at"])


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
