"""django-q2 entry points of journeys: thin, idempotent (a second run finds nothing due)."""

from django.conf import settings

from automation.services import journey_test_follow as test_follow
from automation.services import journeys_run_due, journeys_triggers_apply
from automation.services.test_mode import FOLLOW_FOR

# A scheduled run stops after this many batches so the next minute's run, and other tasks, get a turn.
MAX_BATCHES = 200


def journeys_run() -> dict:
    """Every minute: enrol who the triggers found, apply exits, then run the due contact-steps."""
    found = journeys_triggers_apply()
    report = journeys_run_due(max_batches=MAX_BATCHES)
    return {**found, "steps": report.steps, "batches": report.batches}


def journey_test_follow(enrolment_id: int) -> str:
    """A test run, followed step by step (a run for an enrolment already through finds nothing to do)."""
    # Within the worker's timeout, so the task is never cut off and handed to another worker.
    return test_follow(enrolment_id=enrolment_id, follow_for=min(FOLLOW_FOR, settings.Q_TIMEOUT // 2))
