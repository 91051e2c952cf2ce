from django_q.models import Schedule

from publishing.email.schedules import SCHEDULES as EMAIL_SCHEDULES

SCHEDULES = [
    {
        # Runs about 55 s each minute, so the schedule's 30 s tick never delays a due post.
        "name": "publishing: dispatch due posts",
        "func": "publishing.tasks.dispatch_loop",
        "schedule_type": Schedule.MINUTES,
        "minutes": 1,
        "repeats": -1,
    },
    {
        "name": "publishing: pull post metrics",
        "func": "publishing.tasks.metrics_pull",
        "schedule_type": Schedule.HOURLY,
        "repeats": -1,
    },
]

SCHEDULES += EMAIL_SCHEDULES
