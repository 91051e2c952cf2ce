from collections.abc import Callable

from django_q.models import Schedule

DISPATCH = "publishing: dispatch due posts"

SCHEDULES = [
    {
        # Each run lasts until the scheduler has queued the next one (see next_dispatch_queued), so
        # the scheduler's 30 s tick never leaves due posts without a dispatcher.
        "name": DISPATCH,
        "func": "publishing.tasks.dispatch_loop",
        "schedule_type": Schedule.MINUTES,
        "minutes": 1,
        "repeats": -1,
    },
    {
        # Weather readings change hourly (crm's refresh); a few minutes' delay on a release is harmless.
        "name": "publishing: release posts held for the weather",
        "func": "publishing.tasks.weather_holds_check_task",
        "schedule_type": Schedule.MINUTES,
        "minutes": 5,
        "repeats": -1,
    },
    {
        "name": "publishing: pull post metrics",
        "func": "publishing.tasks.metrics_pull",
        "schedule_type": Schedule.HOURLY,
        "repeats": -1,
    },
]


def next_dispatch_queued() -> Callable[[], bool]:
    """For a scheduled dispatcher run: True once the scheduler has queued the next run.

    A run lasting a fixed 55 s of each minute left a gap of 5 s or more every minute, since the
    scheduler only looks every 30 s or so and so starts each run up to 30 s after its time. It
    records the task it queued last on the schedule, so a new task there means the next run is coming."""
    current = Schedule.objects.filter(name=DISPATCH).values_list("task", flat=True)
    first = current.first()
    return lambda: current.first() != first
