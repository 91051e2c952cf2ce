"""API rate limits counted in fixed windows: one cache round trip a request.

DRF's throttles keep the time of every request of the last period in one cache entry, read and written
whole on every request (at the default 6,000 a minute, a list of up to 6,000 floats pickled both ways),
and two processes reading it at once both write back their own copy, losing the other's request. Here a
request adds one to the counter of the current window (the period's number since the epoch) instead: with
Redis, one pipelined SET NX and INCR. The rate settings and the 429 answer (with Retry-After: the seconds
left in the window) stay DRF's. A fixed window lets a client make up to twice the rate across a window's
edge; the limit guards against runaway clients, not exact quotas.
"""

import math

from django.core.cache import DEFAULT_CACHE_ALIAS, caches
from django.core.cache.backends.redis import RedisCache
from rest_framework import throttling
from rest_framework.settings import api_settings


class FixedWindowRateThrottle(throttling.SimpleRateThrottle):
    @property
    def cache(self):
        # The backend itself (DRF's is the default cache's proxy), to know whether it is Redis.
        return caches[DEFAULT_CACHE_ALIAS]

    def get_rate(self):
        # The rates as set now (DRF reads them once, at import), so a changed setting applies.
        self.THROTTLE_RATES = api_settings.DEFAULT_THROTTLE_RATES
        return super().get_rate()

    def allow_request(self, request, view):
        if self.rate is None:
            return True
        key = self.get_cache_key(request, view)
        if key is None:
            return True
        self.now = self.timer()
        window = math.floor(self.now / self.duration)
        self.window_end = (window + 1) * self.duration
        return self._count(f"{key}_{window}") <= self.num_requests

    def _count(self, key: str) -> int:
        """The window's count with this request; the entry outlives its window by a second at most."""
        timeout = math.ceil(self.window_end - self.now) + 1
        if isinstance(self.cache, RedisCache):
            key = self.cache.make_and_validate_key(key)
            # Django's incr asks whether the key exists first, and add() is one more round trip: both
            # commands go in one pipeline instead. A raw integer is what Django's Redis serializer stores
            # for an int, so cache.get() still reads the counter.
            pipeline = self.cache._cache.get_client(key, write=True).pipeline(transaction=False)
            pipeline.set(key, 0, ex=timeout, nx=True)
            pipeline.incr(key)
            return pipeline.execute()[1]
        # Other caches (each process caching for itself, tests): add() starts the window, incr() counts.
        if self.cache.add(key, 1, timeout):
            return 1
        try:
            return self.cache.incr(key)
        except ValueError:  # the entry expired between the two calls: a new window
            self.cache.add(key, 1, timeout)
            return 1

    def wait(self):
        return self.window_end - self.now


# DRF's classes first: they name the scope and the key (the scoped one reads its rate from the view first).
class AnonRateThrottle(throttling.AnonRateThrottle, FixedWindowRateThrottle):
    pass


class UserRateThrottle(throttling.UserRateThrottle, FixedWindowRateThrottle):
    pass


class ScopedRateThrottle(throttling.ScopedRateThrottle, FixedWindowRateThrottle):
    pass
