from publishing.selectors import APPROVE_ASSET, APPROVE_CONTENT, approvals_waiting_count

NAV_ITEMS = [
    ("Approvals", "publishing:inbox", (APPROVE_CONTENT, APPROVE_ASSET)),
    ("Content", "publishing:content-list", "publishing.view_content"),
    ("Campaigns", "publishing:campaign-list", "publishing.view_campaign"),
    ("Calendar", "publishing:calendar", "publishing.view_publishingjob"),
    ("Email sends", "email-send-list", "publishing.view_emailcampaign"),
    ("SMS sends", "sms-send-list", "publishing.view_smssend"),
    ("Push notifications", "push-send-list", "publishing.view_pushsend"),
    ("Email templates", "email-template-list", "publishing.view_emailtemplate"),
    ("Email layouts", "email-layout-list", "publishing.view_emaillayout"),
    ("Brand kit", "email-brand-kit", "publishing.view_brandkit"),
    # Admins alone: aicmo_site.roles gives every other role domain permissions only, so changing roles is
    # theirs, and it is read from the permission cache the navigation loads anyway (a groups query would
    # cost every page one more).
    ("Checks before approval", "publishing:blocking-checks", "auth.change_group"),
]
NAV_BADGES = {"publishing:inbox": approvals_waiting_count}
