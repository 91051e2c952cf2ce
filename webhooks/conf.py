"""Settings of outgoing webhooks. Read through functions so a test's `settings` fixture applies."""

from django.conf import settings

from aicmo_site.env import env_float, env_int, env_list


def subscribed_cache_seconds() -> int:
    """How long a process trusts its cached set of subscribed events (shared when Redis is the cache)."""
    return getattr(settings, "WEBHOOKS_SUBSCRIBED_CACHE_SECONDS", env_int("WEBHOOKS_SUBSCRIBED_CACHE_SECONDS", 30))


def retry_delays_seconds() -> list[float]:
    """Wait before each retry; one more failure after the last gives up. The default follows the
    Standard Webhooks recommendation (5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h)."""
    configured = getattr(settings, "WEBHOOKS_RETRY_DELAYS_SECONDS",
                         env_list("WEBHOOKS_RETRY_DELAYS_SECONDS", ["5", "300", "1800", "7200", "18000", "36000",
                                                                    "36000"]))
    return [float(delay) for delay in configured]


def timeout_seconds() -> float:
    return getattr(settings, "WEBHOOKS_TIMEOUT_SECONDS", env_float("WEBHOOKS_TIMEOUT_SECONDS", 10))


def batch_size() -> int:
    """Messages one delivery task claims at a time."""
    return getattr(settings, "WEBHOOKS_BATCH_SIZE", env_int("WEBHOOKS_BATCH_SIZE", 200, minimum=1))
