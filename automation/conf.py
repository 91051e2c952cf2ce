"""Settings of journeys, overridable in Django settings (tests) or the environment."""

from django.conf import settings

from aicmo_site.env import env_float


def runner_loop_alive_seconds() -> float:
    """A runner loop not seen for this long is taken for dead, and the worker's runs take the due steps
    again. The loop says it is alive six times as often, between two batches: a batch of 5,000 takes
    about a second of the loop's time (bench notes, "Journeys")."""
    return getattr(settings, "JOURNEYS_LOOP_ALIVE_SECONDS", env_float("JOURNEYS_LOOP_ALIVE_SECONDS", 30.0))
