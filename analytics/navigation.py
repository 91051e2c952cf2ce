NAV_ITEMS = [
    ("Overview", "analytics:overview", None),
    ("Channels", "analytics:channels", None),
    ("Trends", "analytics:trends", None),
    ("Cohorts", "analytics:cohorts", None),
    ("Attribution", "analytics:attribution", None),
    ("Top contacts", "analytics:scores", "analytics.view_contactscore"),
]
