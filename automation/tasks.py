"""django-q2 entry points of journeys: thin, idempotent (a second run finds nothing due)."""

from dataclasses import asdict

from django.conf import settings
from django_q.tasks import async_task

from automation.choices import EnrolmentStatus
from automation.models import JourneyEnrolment
from automation.services import (
    journey_import_entries,
    journeys_date_entries_apply,
    journeys_event_waits_release,
    journeys_run_due,
    journeys_tag_entries,
    journeys_triggers_apply,
    notifications,
)
from automation.services import journey_test_follow as test_follow
from automation.services.test_mode import FOLLOW_FOR

# A scheduled run stops after this many batches so the next minute's run, and other tasks, get a turn.
MAX_BATCHES = 200


def journeys_run() -> dict:
    """Every minute: enrol who the triggers found, apply exits, then run the due contact-steps."""
    found = journeys_triggers_apply()
    released = journeys_event_waits_release()
    report = journeys_run_due(max_batches=MAX_BATCHES)
    return {**found, "released": released, "steps": report.steps, "batches": report.batches}


def journey_event_waits_release(contact_id: int) -> int:
    """Moves on a contact awaiting an event that has just been recorded; the minute's run does the
    same for all, so a lost task only delays them."""
    return journeys_event_waits_release(contact_ids=[contact_id])


def on_event_recorded(sender, *, contact_id: int, kind: str, **kwargs) -> None:
    """crm's event_recorded: one indexed look-up, and a task only for a contact awaiting an event."""
    if JourneyEnrolment.objects.filter(contact_id=contact_id, status=EnrolmentStatus.AWAITING).exists():
        async_task("automation.tasks.journey_event_waits_release", contact_id)


def on_tags_adding(sender, *, tag, contacts, **kwargs) -> None:
    """crm's tags_adding, inside the tagging transaction: enrol in journeys starting on that tag."""
    journeys_tag_entries(tag_name=tag.name, contacts=contacts)


def on_contacts_imported(sender, *, run, created, updated, **kwargs) -> None:
    """crm's contacts_imported, inside each chunk's transaction: the run's journey takes its contacts."""
    journey_import_entries(run=run, created=created, updated=updated)


def journeys_date_entries() -> int:
    """Daily: enrol those whose birthday, renewal date... comes round (once per occurrence, so a
    second run the same day enrols no one)."""
    return journeys_date_entries_apply()



def journey_notifications_send() -> dict:
    """After each batch with a notify step, and every minute for what a dead worker left."""
    return asdict(notifications.journey_notifications_send())


def journey_test_follow(enrolment_id: int) -> str:
    """A test run, followed step by step (a run for an enrolment already through finds nothing to do)."""
    # Within the worker's timeout, so the task is never cut off and handed to another worker.
    return test_follow(enrolment_id=enrolment_id, follow_for=min(FOLLOW_FOR, settings.Q_TIMEOUT // 2))
