"""Analytics settings: score weights, decay and tiers. Each can be set in Django settings or the
environment; the defaults are documented in the README."""

import json

from django.conf import settings

from aicmo_site.caching import cache_shared
from aicmo_site.env import env_bool, env_int, env_str

DEFAULT_EVENT_WEIGHTS = {
    "opened": 1, "clicked": 3, "replied": 5, "form_submit": 5, "page_view": 1, "converted": 10,
}


def event_weights() -> dict[str, float]:
    configured = getattr(settings, "ANALYTICS_EVENT_WEIGHTS", None)
    if configured is None:
        raw = env_str("ANALYTICS_EVENT_WEIGHTS")
        configured = json.loads(raw) if raw else DEFAULT_EVENT_WEIGHTS
    return {str(kind): float(weight) for kind, weight in configured.items()}


def score_half_life_days() -> float:
    return float(getattr(settings, "ANALYTICS_SCORE_HALF_LIFE_DAYS", env_int("ANALYTICS_SCORE_HALF_LIFE_DAYS", 30)))


def score_saturation() -> float:
    """Decayed points at which a score reaches about 63 (1 - 1/e of 100): the curve's scale."""
    return float(getattr(settings, "ANALYTICS_SCORE_SCALE", env_int("ANALYTICS_SCORE_SCALE", 20)))


def tier_thresholds() -> dict[str, int]:
    """Lowest score of each tier; below `low` is inactive."""
    return getattr(settings, "ANALYTICS_TIER_THRESHOLDS", {"high": 70, "medium": 40, "low": 10})


def minimum_sample() -> int:
    """Impressions (or sends) a channel needs before it is ranked, so 3 impressions never top a list."""
    return int(getattr(settings, "ANALYTICS_MINIMUM_SAMPLE", env_int("ANALYTICS_MINIMUM_SAMPLE", 100)))


def attribution_lookback_days() -> int:
    default = env_int("ANALYTICS_ATTRIBUTION_LOOKBACK_DAYS", 30)
    return int(getattr(settings, "ANALYTICS_ATTRIBUTION_LOOKBACK_DAYS", default))


def attribution_half_life_days() -> float:
    return float(getattr(settings, "ANALYTICS_ATTRIBUTION_HALF_LIFE_DAYS", 7))


def report_cache_seconds() -> int:
    """How long roll-up reads are kept (0: never). A fold changes the cache key, so this only bounds
    memory: figures are never older than the last fold."""
    return int(getattr(settings, "ANALYTICS_REPORT_CACHE_SECONDS", env_int("ANALYTICS_REPORT_CACHE_SECONDS", 300)))


def work_mem_mb() -> int:
    """PostgreSQL work_mem of a roll-up rebuild: a chunk's aggregate holds up to campaigns × channels
    × days groups. (Not scoring's: its hash aggregate over a million contacts took gigabytes and ran
    slower than the sort it replaces, measured with EXPLAIN ANALYZE; bench/NOTES.md.)"""
    return int(getattr(settings, "ANALYTICS_WORK_MEM_MB", env_int("ANALYTICS_WORK_MEM_MB", 256)))


def fold_state_cached() -> bool:
    """Whether cached answers read the fold checkpoint from the cache (where each fold puts it) rather than
    from the database. Only with a cache every process shares: folds run in a worker, and a web process's
    own cache would never hear of them."""
    configured = getattr(settings, "ANALYTICS_FOLD_STATE_CACHED", None)
    if configured is not None:
        return bool(configured)
    return env_bool("ANALYTICS_FOLD_STATE_CACHED", cache_shared())
