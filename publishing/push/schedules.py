"""Periodic work of push sends (django_q Schedule fields), found through aicmo_site.registry."""

SCHEDULES = [
    {"name": "push: wake sends", "func": "publishing.push.tasks.push_wake_sends", "schedule_type": "I",
     "minutes": 1},
]
