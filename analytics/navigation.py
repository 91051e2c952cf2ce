NAV_ITEMS = [
    ("Dashboard", "analytics:overview", None),
    ("Compare campaigns", "analytics:compare", None),
    ("Channels", "analytics:channels", None),
    ("Trends", "analytics:trends", None),
    ("Cohorts", "analytics:cohorts", None),
    ("Attribution", "analytics:attribution", None),
    ("Top contacts", "analytics:scores", "analytics.view_contactscore"),
    ("Best time to post", "analytics:best-times", None),
]
