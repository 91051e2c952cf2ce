"""What the configured cache can carry between processes."""

from django.core.cache import DEFAULT_CACHE_ALIAS, caches
from django.core.cache.backends.dummy import DummyCache
from django.core.cache.backends.locmem import LocMemCache


def cache_shared() -> bool:
    """Whether what one process (a worker) puts in the default cache reaches the others (the web processes):
    a process's own memory, or no cache at all, does not."""
    return not isinstance(caches[DEFAULT_CACHE_ALIAS], LocMemCache | DummyCache)
