"""Hourly limits on what the public may post (form sendings, browser push subscriptions), per address or
per value, counted in the cache so that every process shares them when the cache is Redis."""

import hashlib
import time

from django.core.cache import cache

WINDOW_SECONDS = 3600


def over_hourly_limit(scope: str, kind: str, value: str, limit: int) -> bool:
    """Counts one more try of `value` (an IP, an email, an endpoint) in this hour's fixed window; True once
    it is past `limit`. The value is hashed, so the cache holds no address."""
    key = (f"crm:{scope}-rate:{kind}:{int(time.time() // WINDOW_SECONDS)}:"
           f"{hashlib.sha256(value.encode()).hexdigest()[:32]}")
    cache.add(key, 0, timeout=WINDOW_SECONDS)
    try:
        return cache.incr(key) > limit
    except ValueError:  # the key expired between add and incr: this is the window's first try
        cache.set(key, 1, timeout=WINDOW_SECONDS)
        return False


def seconds_to_next_window() -> int:
    """What a 429's Retry-After says: when the fixed window ends."""
    return WINDOW_SECONDS - int(time.time()) % WINDOW_SECONDS
