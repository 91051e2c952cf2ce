"""Settings of CRM imports, exports and syncs (override in settings or the environment)."""

from django.conf import settings

from aicmo_site.env import env_int


def import_chunk_rows(default: int) -> int:
    """Rows written per transaction; 0 (the default) lets each database path choose."""
    return getattr(settings, "CRM_IMPORT_CHUNK_ROWS", env_int("CRM_IMPORT_CHUNK_ROWS", 0, minimum=0)) or default


def import_inline_max_bytes() -> int:
    """Uploads up to this size are imported during the request; larger ones go to the worker."""
    return getattr(settings, "CRM_IMPORT_INLINE_MAX_BYTES",
                   env_int("CRM_IMPORT_INLINE_MAX_BYTES", 256 * 1024, minimum=0))


def import_resume_after_seconds() -> int:
    """A running import with no committed chunk for this long is handed to a worker again: the one it had
    died (a Redis-queued task dies with its worker). A live one loses nothing: the slower is superseded."""
    return getattr(settings, "CRM_IMPORT_RESUME_AFTER_SECONDS",
                   env_int("CRM_IMPORT_RESUME_AFTER_SECONDS", 300, minimum=1))


def export_chunk_rows() -> int:
    return getattr(settings, "CRM_EXPORT_CHUNK_ROWS", env_int("CRM_EXPORT_CHUNK_ROWS", 2000, minimum=1))


def airtable_lookback_minutes() -> int:
    """How far back the scheduled Airtable sync looks for changed contacts (overlap is harmless: upserts)."""
    return getattr(settings, "CRM_AIRTABLE_SYNC_LOOKBACK_MINUTES",
                   env_int("CRM_AIRTABLE_SYNC_LOOKBACK_MINUTES", 30, minimum=1))
