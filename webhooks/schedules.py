# Retries come due at their backoff times; this picks them up (new events are delivered right after commit).
SCHEDULES = [
    {"name": "webhooks: deliver due messages", "func": "webhooks.tasks.deliver_due",
     "schedule_type": "I", "minutes": 1, "repeats": -1},
]
