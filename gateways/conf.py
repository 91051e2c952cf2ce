"""Settings of the provider chain. Read through functions so a test's `settings` fixture applies."""

from django.conf import settings

from aicmo_site.env import env_float, env_int


def breaker_threshold() -> int:
    """Consecutive failures after which an account's circuit breaker opens."""
    return getattr(settings, "GATEWAYS_BREAKER_THRESHOLD", env_int("GATEWAYS_BREAKER_THRESHOLD", 5, minimum=1))


def breaker_cooldown_seconds() -> float:
    """How long an open breaker keeps an account out of the chain before one trial call."""
    return getattr(settings, "GATEWAYS_BREAKER_COOLDOWN_SECONDS", env_float("GATEWAYS_BREAKER_COOLDOWN_SECONDS", 60))


def health_ema_alpha() -> float:
    """Weight of the newest call in the success-rate and latency moving averages (0..1)."""
    return getattr(settings, "GATEWAYS_HEALTH_EMA_ALPHA", env_float("GATEWAYS_HEALTH_EMA_ALPHA", 0.2))


def degraded_success_rate() -> float:
    """Below this success rate an account counts as degraded."""
    return getattr(settings, "GATEWAYS_DEGRADED_SUCCESS_RATE", env_float("GATEWAYS_DEGRADED_SUCCESS_RATE", 0.9))


def rate_limit_max_wait_seconds() -> float:
    """Longest wait for an account's rate limit before the chain moves on to the next account."""
    return getattr(
        settings, "GATEWAYS_RATE_LIMIT_MAX_WAIT_SECONDS", env_float("GATEWAYS_RATE_LIMIT_MAX_WAIT_SECONDS", 2)
    )


def rate_limit_margin_seconds() -> float:
    """How late after its token a request may reach the provider without breaking the account's limit."""
    return getattr(
        settings, "GATEWAYS_RATE_LIMIT_MARGIN_SECONDS", env_float("GATEWAYS_RATE_LIMIT_MARGIN_SECONDS", 0.25)
    )
