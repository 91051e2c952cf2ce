"""A token bucket per provider account, kept in the database so every process shares it.

Taking a token is an optimistic UPDATE guarded by a version number: of two processes that read
the same bucket, only one succeeds; the other reads again.

The grants follow the bucket exactly, but a request leaves some time after its grant (building and
signing it, connecting, and on a busy machine waiting for a CPU) and that time varies: a request
delayed by d lands among requests granted up to d later, d x rate tokens more than the provider's own
bucket holds. So a grant leaves a reserve of GATEWAYS_RATE_LIMIT_MARGIN_SECONDS x rate tokens in the
bucket (at most count - 1): a burst is that much shorter, the sustained rate is unchanged, and a
request up to the margin late still fits the provider's limit where it is counted.
"""

import time

from django.utils import timezone

from gateways import conf
from gateways.models import ProviderHealth

BUCKET_FIELDS = ("bucket_tokens", "bucket_version", "bucket_checked_at")


def reserve_tokens(limit: tuple[int, float], margin: float) -> float:
    """Tokens a grant leaves in the bucket: `margin` seconds of refill, never the whole bucket (a
    limit of one request per period has no room for a reserve)."""
    count, period = limit
    return max(0.0, min(margin * count / period, count - 1.0))


def take_token(account_id: int, limit: tuple[int, float] | None, *, max_wait: float,
               row: ProviderHealth | None = None, margin: float | None = None) -> float | None:
    """Seconds waited for a token, or None when the wait would be longer than max_wait
    (the caller moves on instead of holding up the batch). `row`, the account's health just read,
    saves the first read; the version guard still catches anyone who took a token since. The row
    is left holding the bucket as written, so several calls in a row read it only on a conflict.
    `margin` (default GATEWAYS_RATE_LIMIT_MARGIN_SECONDS): see the module's docstring."""
    if not limit:
        return 0.0
    count, period = limit
    rate = count / period
    needed = 1 + reserve_tokens(limit, conf.rate_limit_margin_seconds() if margin is None else margin)
    waited = 0.0
    known = None if row is None else {name: getattr(row, name) for name in BUCKET_FIELDS}
    while True:
        bucket = known or ProviderHealth.objects.values(*BUCKET_FIELDS).get(pk=account_id)
        known = None
        now = timezone.now()
        tokens = float(count) if bucket["bucket_tokens"] is None else bucket["bucket_tokens"]
        if bucket["bucket_checked_at"] is not None:
            elapsed = max((now - bucket["bucket_checked_at"]).total_seconds(), 0.0)
            tokens = min(float(count), tokens + elapsed * rate)
        if tokens >= needed:
            written = {"bucket_tokens": tokens - 1, "bucket_version": bucket["bucket_version"] + 1,
                       "bucket_checked_at": now}
            taken = ProviderHealth.objects.filter(pk=account_id, bucket_version=bucket["bucket_version"]).update(
                **written)
            if taken:
                if row is not None:
                    for name, value in written.items():
                        setattr(row, name, value)
                return waited
            continue
        wait = (needed - tokens) / rate
        if waited + wait > max_wait:
            return None
        time.sleep(wait)
        waited += wait
