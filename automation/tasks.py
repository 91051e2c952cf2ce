"""django-q2 entry points of journeys: thin, idempotent (a second run finds nothing due)."""

from dataclasses import asdict

from automation.services import journeys_run_due, journeys_triggers_apply, notifications

# A scheduled run stops after this many batches so the next minute's run, and other tasks, get a turn.
MAX_BATCHES = 200


def journeys_run() -> dict:
    """Every minute: enrol who the triggers found, apply exits, then run the due contact-steps."""
    found = journeys_triggers_apply()
    report = journeys_run_due(max_batches=MAX_BATCHES)
    return {**found, "steps": report.steps, "batches": report.batches}


def journey_notifications_send() -> dict:
    """After each batch with a notify step, and every minute for what a dead worker left."""
    return asdict(notifications.journey_notifications_send())
