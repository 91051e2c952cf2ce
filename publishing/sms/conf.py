"""Settings of SMS sends, overridable in Django settings (tests) or the environment."""

from django.conf import settings

from aicmo_site.env import env_int
from publishing.channel_sends import quiet_hours_setting


def quiet_hours() -> tuple[int, int]:
    """(start, end) local hours between which nobody is texted, in the contact's time zone."""
    return quiet_hours_setting("SMS")


def batch_size() -> int:
    """Deliveries a worker claims at once."""
    return getattr(settings, "SMS_BATCH_SIZE", env_int("SMS_BATCH_SIZE", 50, minimum=1))


def retry_seconds() -> int:
    """How long a delivery waits when no SMS provider could take it (and none said how long)."""
    return getattr(settings, "SMS_RETRY_SECONDS", env_int("SMS_RETRY_SECONDS", 300, minimum=1))


def public_base_url() -> str:
    return getattr(settings, "PUBLIC_BASE_URL", "http://localhost:8000").rstrip("/")
