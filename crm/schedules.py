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
    {
        # Within the positions' 300 s default lifetime (CRM_PAGE_ANCHOR_SECONDS), so they never expire.
        "name": "crm: number the unfiltered contact lists",
        "func": "crm.tasks.page_anchors_keep_task",
        "schedule_type": "I",
        "minutes": 4,
    },
    *DATA_SCHEDULES,
]
