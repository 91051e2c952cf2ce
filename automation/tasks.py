"""django-q2 entry points of journeys: thin, idempotent (a second run finds nothing due)."""

from dataclasses import asdict

from django.conf import settings
from django_q.models import Schedule
from django_q.tasks import async_task

from automation.choices import EnrolmentStatus
from automation.models import JourneyEnrolment
from automation.selectors import journeys_next_due, journeys_tag_triggers, runner_loop_alive
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

# A run of due steps gives its worker back after this long (s), so other tasks get a turn; with steps
# still due it queues its continuation behind them, so a backlog is not left for the next minute.
RUN_SECONDS = 30
WAKE = "automation: run the next due journey steps"


def journeys_run() -> dict:
    """Every minute: enrol who the triggers found, apply exits, then run the due contact-steps."""
    found = journeys_triggers_apply()
    released = journeys_event_waits_release()
    return {**found, "released": released, **journeys_run_steps()}


def journeys_run_steps() -> dict:
    """Due contact-steps for RUN_SECONDS, then its own continuation if some may still be due. Each minute's
    run, finding a backlog, starts another chain that works beside it (SKIP LOCKED): a backlog gets every
    free worker in turn, and each chain ends at the first run that finds nothing due.

    None while a runner loop is alive (run_all starts one): it takes the due steps within a second, and
    a run here beside it would only take the cores it needs. The minute's run checks again each time,
    so once the loop has been silent for its heartbeat's timeout the queue takes over."""
    if runner_loop_alive():
        return {"steps": 0, "batches": 0, "continued": False, "left_to_runner_loop": True}
    report = journeys_run_due(seconds=RUN_SECONDS)
    if report.more:
        async_task("automation.tasks.journeys_run_steps")
    else:
        _wake_at_next_due()
    return {"steps": report.steps, "batches": report.batches, "continued": report.more}


def _wake_at_next_due() -> None:
    """A run once at the next due time (django-q's scheduler looks every 30 s), so a wait ending between
    two of the minute's runs is taken within 30 s, not up to 90 (measured: p50 92 s, bench journeys). One
    row, moved earlier only: a wake-up another run set sooner stays."""
    due = journeys_next_due()
    if due is None:
        return
    if Schedule.objects.filter(name=WAKE, next_run__lte=due).exists():
        return
    Schedule.objects.update_or_create(name=WAKE, defaults={
        "func": "automation.tasks.journeys_run_steps", "schedule_type": Schedule.ONCE, "repeats": -1,
        "next_run": due})


def journey_event_waits_release(contact_id: int) -> int:
    """Moves on a contact awaiting an event that has just been recorded; the minute's run does the
    same for all, so a lost task only delays them."""
    return journeys_event_waits_release(contact_ids=[contact_id])


def on_event_recorded(sender, *, contact_id: int, kind: str, **kwargs) -> None:
    """crm's event_recorded: one indexed look-up, and a task only for a contact awaiting an event."""
    if JourneyEnrolment.objects.filter(contact_id=contact_id, status=EnrolmentStatus.AWAITING).exists():
        async_task("automation.tasks.journey_event_waits_release", contact_id)


def on_events_recorded(sender, *, contact_ids: list[int], **kwargs) -> None:
    """crm's events_recorded (a batch of opens and clicks folded): one look-up for the whole batch, and a
    task only for each contact awaiting an event."""
    awaiting = (JourneyEnrolment.objects.filter(contact_id__in=contact_ids, status=EnrolmentStatus.AWAITING)
                .order_by("contact_id").values_list("contact_id", flat=True).distinct())
    for contact_id in awaiting:
        async_task("automation.tasks.journey_event_waits_release", contact_id)


def on_tags_adding(sender, *, tag, contacts, **kwargs) -> None:
    """crm's tags_adding, inside the tagging transaction: enrol in journeys starting on that tag."""
    journeys_tag_entries(tag_name=tag.name, contacts=contacts)


def on_tags_watched(sender, *, names, **kwargs) -> set[str]:
    """crm's tags_watched: the names among these that an active journey starts on."""
    return journeys_tag_triggers(names)


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
