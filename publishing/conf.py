"""Settings of publishing, overridable in Django settings (tests) or the environment."""

from django.conf import settings

from aicmo_site.env import env_bool, env_float, env_int, env_str


def allow_self_approval() -> bool:
    return getattr(settings, "PUBLISHING_ALLOW_SELF_APPROVAL", env_bool("PUBLISHING_ALLOW_SELF_APPROVAL", False))


def max_retries() -> int:
    return getattr(settings, "PUBLISHING_MAX_RETRIES", env_int("PUBLISHING_MAX_RETRIES", 3, minimum=0))


def backoff_base_seconds() -> float:
    """The first retry's delay; each further one doubles it."""
    return getattr(settings, "PUBLISHING_BACKOFF_BASE_SECONDS", env_float("PUBLISHING_BACKOFF_BASE_SECONDS", 60.0))


def backoff_cap_seconds() -> int:
    return getattr(settings, "PUBLISHING_BACKOFF_CAP_SECONDS", env_int("PUBLISHING_BACKOFF_CAP_SECONDS", 3600))


def lease_seconds() -> int:
    return getattr(settings, "PUBLISHING_LEASE_SECONDS", env_int("PUBLISHING_LEASE_SECONDS", 120, minimum=2))


def claim_batch() -> int:
    """Jobs claimed at once. A batch's jobs of one channel account go out one after the other on one
    thread, reading the account once: larger batches share that read among more posts."""
    return getattr(settings, "PUBLISHING_CLAIM_BATCH", env_int("PUBLISHING_CLAIM_BATCH", 64, minimum=1))


def dispatch_threads() -> int:
    """Posts a dispatcher process makes at the same time (1: one after the other, in its own thread)."""
    return getattr(settings, "PUBLISHING_DISPATCH_THREADS", env_int("PUBLISHING_DISPATCH_THREADS", 8, minimum=1))


def dispatch_loop_seconds() -> float:
    return getattr(settings, "PUBLISHING_DISPATCH_LOOP_SECONDS", env_float("PUBLISHING_DISPATCH_LOOP_SECONDS", 55.0))


def dispatch_handoff_seconds() -> float:
    """How long a scheduled dispatcher run goes on once the next one was queued: long enough for a
    worker to pick that one up (the broker's poll is 0.5 s), so that the two overlap a little."""
    return getattr(settings, "PUBLISHING_DISPATCH_HANDOFF_SECONDS",
                   env_float("PUBLISHING_DISPATCH_HANDOFF_SECONDS", 5.0))


def dispatch_poll_seconds() -> float:
    return getattr(settings, "PUBLISHING_DISPATCH_POLL_SECONDS", env_float("PUBLISHING_DISPATCH_POLL_SECONDS", 0.5))


def release_draft_author() -> str:
    """The username product-update drafts made from GitHub releases are written by; empty makes none."""
    return getattr(settings, "GITHUB_RELEASE_DRAFT_AUTHOR", env_str("GITHUB_RELEASE_DRAFT_AUTHOR", "") or "")
