"""Settings of SMS sends, overridable in Django settings (tests) or the environment."""

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from aicmo_site.env import env_int


def quiet_hours() -> tuple[int, int]:
    """(start, end) local hours between which nobody is texted, in the contact's time zone: 21 to 9 by
    default, the evening and night hours many countries' telemarketing rules protect."""
    start = getattr(settings, "SMS_QUIET_HOURS_START", env_int("SMS_QUIET_HOURS_START", 21, minimum=0))
    end = getattr(settings, "SMS_QUIET_HOURS_END", env_int("SMS_QUIET_HOURS_END", 9, minimum=0))
    if not (0 <= start <= 23 and 0 <= end <= 23):
        raise ImproperlyConfigured("SMS_QUIET_HOURS_START and SMS_QUIET_HOURS_END are hours from 0 to 23; set both "
                                   "to the same hour to text at any time.")
    return start, end


def batch_size() -> int:
    """Deliveries a worker claims at once."""
    return getattr(settings, "SMS_BATCH_SIZE", env_int("SMS_BATCH_SIZE", 50, minimum=1))


def retry_seconds() -> int:
    """How long a delivery waits when no SMS provider could take it (and none said how long)."""
    return getattr(settings, "SMS_RETRY_SECONDS", env_int("SMS_RETRY_SECONDS", 300, minimum=1))


def public_base_url() -> str:
    return getattr(settings, "PUBLIC_BASE_URL", "http://localhost:8000").rstrip("/")
