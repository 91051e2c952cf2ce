NAV_ITEMS = [
    ("Alerts", "alerts:alert-list", "alerts.view_alert"),
]
