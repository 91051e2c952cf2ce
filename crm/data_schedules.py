"""Schedules of the data jobs, for crm/schedules.py (the hook setup_schedules reads) to include."""

SCHEDULES = [
    {"name": "crm: resume imports whose worker stopped", "func": "crm.data_tasks.imports_resume",
     "schedule_type": "I", "minutes": 1},
    {"name": "crm: push changed contacts to Airtable", "func": "crm.data_tasks.airtable_sync",
     "schedule_type": "I", "minutes": 15},
    {"name": "crm: push all contacts to Airtable", "func": "crm.data_tasks.airtable_sync",
     "kwargs": "full=True", "schedule_type": "D"},
]
