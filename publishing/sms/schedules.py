"""Periodic work of SMS sends (django_q Schedule fields), found through aicmo_site.registry."""

SCHEDULES = [
    {"name": "sms: wake sends", "func": "publishing.sms.tasks.sms_wake_sends", "schedule_type": "I", "minutes": 1},
]
