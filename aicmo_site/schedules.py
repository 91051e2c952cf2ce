"""The site's own periodic schedules (the apps declare theirs in their schedules.py)."""

SCHEDULES = [
    {
        # Daily: the policies count in days at the finest, and each run removes in small batches.
        "name": "site: apply the data-retention policies",
        "func": "aicmo_site.tasks.retention_nightly",
        "schedule_type": "D",
    },
]
