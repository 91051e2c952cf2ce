SCHEDULES = [
    {"name": "analytics: fold new events into roll-ups", "func": "analytics.tasks.fold_rollups",
     "schedule_type": "I", "minutes": 5, "repeats": -1},
    {"name": "analytics: score contacts", "func": "analytics.tasks.score_contacts",
     "schedule_type": "H", "repeats": -1},
]
