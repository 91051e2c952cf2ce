NAV_ITEMS = [
    ("Journeys", "automation:journey-list", "automation.view_journey"),
    ("Tasks", "automation:task-list", "automation.view_task"),
]
