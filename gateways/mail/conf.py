"""Settings of the mail adapters, read through functions so a test's `settings` fixture applies."""

from django.conf import settings

from aicmo_site.env import env_int


def smtp_retry_after_seconds() -> int:
    """When an SMTP server answers 4xx (try again later) without saying when: how long to wait."""
    return getattr(settings, "GATEWAYS_SMTP_RETRY_AFTER_SECONDS",
                   env_int("GATEWAYS_SMTP_RETRY_AFTER_SECONDS", 60, minimum=1))
