"""A token bucket per provider account, kept in the database so every process shares it.

Taking a token is an optimistic UPDATE guarded by a version number: of two processes that read
the same bucket, only one succeeds; the other reads again.
"""

import time

from django.utils import timezone

from gateways.models import ProviderHealth

BUCKET_FIELDS = ("bucket_tokens", "bucket_version", "bucket_checked_at")


def take_token(account_id: int, limit: tuple[int, float] | None, *, max_wait: float,
               row: ProviderHealth | None = None) -> float | None:
    """Seconds waited for a token, or None when the wait would be longer than max_wait
    (the caller moves on instead of holding up the batch). `row`, the account's health just read,
    saves the first read; the version guard still catches anyone who took a token since. The row
    is left holding the bucket as written, so several calls in a row read it only on a conflict."""
    if not limit:
        return 0.0
    count, period = limit
    rate = count / period
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
        if tokens >= 1:
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
        wait = (1 - tokens) / rate
        if waited + wait > max_wait:
            return None
        time.sleep(wait)
        waited += wait
