NAV_ITEMS = [
    ("Journeys", "automation:journey-list", "automation.view_journey"),
]
