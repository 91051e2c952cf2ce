"""CRM settings. Read at call time so tests can override them with pytest-django's `settings`."""

from django.conf import settings

from aicmo_site.env import env_int


def soft_bounce_limit() -> int:
    """Soft bounces after which an address is treated like a hard bounce (suppressed)."""
    return getattr(settings, "CRM_SOFT_BOUNCE_LIMIT", env_int("CRM_SOFT_BOUNCE_LIMIT", 3, minimum=1))


def enrichment_batch_size() -> int:
    """Contacts asked of the providers per call; also how often a run's progress is saved."""
    return getattr(settings, "CRM_ENRICHMENT_BATCH_SIZE", env_int("CRM_ENRICHMENT_BATCH_SIZE", 25, minimum=1))


def enrichment_max_attempts() -> int:
    """Times a contact waits out a provider outage before its run gives up on it (failed)."""
    return getattr(settings, "CRM_ENRICHMENT_MAX_ATTEMPTS", env_int("CRM_ENRICHMENT_MAX_ATTEMPTS", 5, minimum=1))
