"""Settings of the alert rules. Read through functions so a test's `settings` fixture applies."""

from django.conf import settings

from aicmo_site.env import env_int


def min_sample() -> int:
    """Fewest jobs or emails in a rate's window before the rate can open an alert (a 1-in-3 failure
    rate says nothing)."""
    return getattr(settings, "ALERTS_MIN_SAMPLE", env_int("ALERTS_MIN_SAMPLE", 20, minimum=1))


def min_provider_calls() -> int:
    """Fewest calls to a capability's first account before its failover rate counts."""
    return getattr(settings, "ALERTS_MIN_PROVIDER_CALLS", env_int("ALERTS_MIN_PROVIDER_CALLS", 10, minimum=1))
