SCHEDULES = [
    {"name": "alerts: check the rules", "func": "alerts.tasks.check_alerts",
     "schedule_type": "I", "minutes": 1, "repeats": -1},
]
