"""Periodic work of email (django_q Schedule fields), found through aicmo_site.registry."""

SCHEDULES = [
    {"name": "email: wake sends", "func": "publishing.email.tasks.email_wake_sends", "schedule_type": "I",
     "minutes": 1},
    {"name": "email: fold opens and clicks", "func": "publishing.email.tasks.email_fold_tracking_hits",
     "schedule_type": "I", "minutes": 1},
    {"name": "email: read bounce and reply inboxes", "func": "publishing.email.tasks.email_poll_inboxes",
     "schedule_type": "I", "minutes": 15},
    {"name": "email: evaluate A/B tests", "func": "publishing.email.tasks.email_evaluate_ab_tests",
     "schedule_type": "I", "minutes": 5},
]
