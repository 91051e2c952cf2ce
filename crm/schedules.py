from crm.data_schedules import SCHEDULES as DATA_SCHEDULES

SCHEDULES = [
    {
        "name": "crm: resume waiting enrichment runs",
        "func": "crm.tasks.enrichment_runs_resume",
        "schedule_type": "I",
        "minutes": 5,
    },
    {
        "name": "crm: announce segment entries",
        "func": "crm.tasks.segment_entries_announce",
        "schedule_type": "I",
        "minutes": 5,
    },
    {
        # Catches what a per-payment recompute leaves: quantile thresholds move as others pay.
        "name": "crm: recompute lifetime values and value tiers",
        "func": "crm.tasks.value_tiers_recompute_all",
        "schedule_type": "D",
    },
    {
        # Hourly into one snapshot a day: unchanged repositories answer 304, which costs no GitHub quota.
        "name": "crm: read the watched GitHub repositories",
        "func": "crm.tasks.repositories_poll_task",
        "schedule_type": "H",
    },
    {
        # Hourly, each run capped by CRM_WEATHER_CALLS_PER_RUN to stay within the plan's monthly calls.
        "name": "crm: refresh the weather in contacts' cities",
        "func": "crm.tasks.weather_refresh_task",
        "schedule_type": "H",
    },
    *DATA_SCHEDULES,
]
