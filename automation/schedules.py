SCHEDULES = [
    {"name": "automation: run the journeys", "func": "automation.tasks.journeys_run",
     "schedule_type": "I", "minutes": 1, "repeats": -1},
]
