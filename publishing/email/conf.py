"""Settings of email campaigns, overridable in Django settings (tests) or the environment.

Read through functions so pytest-django's `settings` fixture and a worker's environment both apply.
"""

from django.conf import settings

from aicmo_site.env import env_bool, env_float, env_int, env_str


def send_concurrency() -> int:
    """Worker tasks sending one campaign at the same time."""
    return getattr(settings, "EMAIL_SEND_CONCURRENCY", env_int("EMAIL_SEND_CONCURRENCY", 2, minimum=1))


def rate_per_second() -> float:
    """Messages per second for one campaign across its workers; 0 means no limit."""
    return getattr(settings, "EMAIL_RATE_PER_SECOND", env_float("EMAIL_RATE_PER_SECOND", 0.0))


def batch_size() -> int:
    """Deliveries a worker claims at once and sends over one SMTP connection."""
    return getattr(settings, "EMAIL_BATCH_SIZE", env_int("EMAIL_BATCH_SIZE", 200, minimum=1))


def connections_per_worker() -> int:
    """SMTP connections one worker sends over side by side: the next messages are written on them while
    one group at a time is ended (sender.batch._BatchSend), so a killed worker leaves at most one group
    (starts_per_commit) whose outcome is unknown whatever this number."""
    return getattr(settings, "EMAIL_CONNECTIONS_PER_WORKER", env_int("EMAIL_CONNECTIONS_PER_WORKER", 4, minimum=1))


def starts_per_commit() -> int:
    """Deliveries a worker marks "sending" in one commit, at most one per connection: those whose content
    is written when the last group's answers are in. Each commit waits for the disk (synchronous_commit),
    and with one start per commit that wait was nearly half of a worker's time. A killed worker leaves the
    whole group "outcome unknown", never sent again: up to this many unknowns per kill instead of one.
    1 gives the old window of one message per worker."""
    return getattr(settings, "EMAIL_STARTS_PER_COMMIT", env_int("EMAIL_STARTS_PER_COMMIT", 4, minimum=1))


def tracking_fold_batch() -> int:
    """Opens and clicks folded per transaction in the background."""
    return getattr(settings, "EMAIL_TRACKING_FOLD_BATCH", env_int("EMAIL_TRACKING_FOLD_BATCH", 500, minimum=1))


def lease_seconds() -> float:
    """How long a claim lives without progress; a crashed worker's claims come back after it."""
    return getattr(settings, "EMAIL_LEASE_SECONDS", env_float("EMAIL_LEASE_SECONDS", 120.0))


def worker_budget_seconds() -> float:
    """How long one worker task sends before handing over to a fresh task (kept under Q_TIMEOUT)."""
    return getattr(settings, "EMAIL_WORKER_BUDGET_SECONDS", env_float("EMAIL_WORKER_BUDGET_SECONDS", 300.0))


def turn_seconds() -> float:
    """How long one worker task of a send fed by journeys sends before it queues its next turn behind
    the tasks waiting meanwhile: the journeys' own steps get a worker between two turns, however slow
    the provider."""
    return getattr(settings, "EMAIL_TURN_SECONDS", env_float("EMAIL_TURN_SECONDS", 5.0))


def synchronous_commit() -> bool:
    """False: on PostgreSQL a sending worker's commits return before their WAL record reaches the disk.
    Still safe when a worker is killed (the server has the record and commits it), not when PostgreSQL
    itself crashes: the last fraction of a second of "sending" marks may be lost, and those messages
    sent again. True (the default) keeps every mark durable before the SMTP transaction starts.
    Always True behind a pooler in transaction mode: the setting is a session's, and the server session
    is shared with other clients there."""
    if settings.DATABASE_TRANSACTION_POOLING:
        return True
    return getattr(settings, "EMAIL_SYNCHRONOUS_COMMIT", env_bool("EMAIL_SYNCHRONOUS_COMMIT", True))


def max_attempts() -> int:
    """Attempts at one delivery before a temporary failure becomes final."""
    return getattr(settings, "EMAIL_MAX_ATTEMPTS", env_int("EMAIL_MAX_ATTEMPTS", 4, minimum=1))


def retry_base_seconds() -> float:
    """First retry delay; each later one doubles, capped at an hour."""
    return getattr(settings, "EMAIL_RETRY_BASE_SECONDS", env_float("EMAIL_RETRY_BASE_SECONDS", 60.0))


def unsubscribe_mailto() -> str:
    """The mailto address of List-Unsubscribe (RFC 8058 asks for both a mailto and an https URI)."""
    return getattr(settings, "EMAIL_UNSUBSCRIBE_MAILTO",
                   env_str("EMAIL_UNSUBSCRIBE_MAILTO", "unsubscribe@localhost") or "unsubscribe@localhost")


def message_id_domain() -> str:
    """The right-hand side of the Message-IDs AICMO writes."""
    return getattr(settings, "EMAIL_MESSAGE_ID_DOMAIN",
                   env_str("EMAIL_MESSAGE_ID_DOMAIN", "aicmo.localhost") or "aicmo.localhost")


def webhook_secret() -> str:
    """Standard Webhooks secret (whsec_…) of the inbound provider-event endpoint; empty refuses all events."""
    return getattr(settings, "EMAIL_WEBHOOK_SECRET", env_str("EMAIL_WEBHOOK_SECRET", "") or "")


def webhook_tolerance_seconds() -> int:
    return getattr(settings, "EMAIL_WEBHOOK_TOLERANCE_SECONDS", 300)


def public_base_url() -> str:
    return getattr(settings, "PUBLIC_BASE_URL", "http://localhost:8000").rstrip("/")


def gateway_module() -> str:
    """The module offering open_email_session() and read_inbox(); gateways' own by default."""
    return getattr(settings, "EMAIL_GATEWAY", env_str("EMAIL_GATEWAY", "gateways.services") or "gateways.services")
