SCHEDULES = [
    {
        "name": "media: renditions catch-up",
        "func": "media.tasks.renditions_catch_up",
        "schedule_type": "I",
        "minutes": 15,
    },
]
