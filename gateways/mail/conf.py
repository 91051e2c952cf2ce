"""Settings of the mail adapters, read through functions so a test's `settings` fixture applies."""

from django.conf import settings

from aicmo_site.env import env_int


def smtp_retry_after_seconds() -> int:
    """How long to leave an SMTP account alone after it answered 421 (busy, closing the connection)."""
    return getattr(settings, "GATEWAYS_SMTP_RETRY_AFTER_SECONDS",
                   env_int("GATEWAYS_SMTP_RETRY_AFTER_SECONDS", 60, minimum=1))


def imap_max_message_bytes() -> int:
    """How much of each received message is read. Bounces and replies carry what we need first
    (the report, the reply text, the original's headers); an attachment after that is not worth
    holding in a worker's memory."""
    return getattr(settings, "GATEWAYS_IMAP_MAX_MESSAGE_BYTES",
                   env_int("GATEWAYS_IMAP_MAX_MESSAGE_BYTES", 1_000_000, minimum=10_000))
