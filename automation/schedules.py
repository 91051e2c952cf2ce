SCHEDULES = [
    {"name": "automation: run the journeys", "func": "automation.tasks.journeys_run",
     "schedule_type": "I", "minutes": 1, "repeats": -1},
    {"name": "automation: enrol on date fields", "func": "automation.tasks.journeys_date_entries",
     "schedule_type": "D", "repeats": -1},
    {"name": "automation: send journey notifications", "func": "automation.tasks.journey_notifications_send",
     "schedule_type": "I", "minutes": 1, "repeats": -1},
]
