NAV_ITEMS = [
    ("Content", "publishing:content-list", "publishing.view_content"),
    ("Campaigns", "publishing:campaign-list", "publishing.view_campaign"),
    ("Calendar", "publishing:calendar", "publishing.view_publishingjob"),
    ("Email sends", "email-send-list", "publishing.view_emailcampaign"),
    ("Email templates", "email-template-list", "publishing.view_emailtemplate"),
]
