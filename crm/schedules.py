SCHEDULES = [
    {
        "name": "crm: resume waiting enrichment runs",
        "func": "crm.tasks.enrichment_runs_resume",
        "schedule_type": "I",
        "minutes": 5,
    },
]
