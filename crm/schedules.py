from importlib import import_module

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
]


def _data_schedules() -> list[dict]:
    """The import/export side's schedules (crm/data_schedules.py), when that module is present."""
    try:
        return list(import_module("crm.data_schedules").SCHEDULES)
    except ModuleNotFoundError:
        return []


SCHEDULES += _data_schedules()
