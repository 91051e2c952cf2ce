from publishing.selectors import APPROVE_ASSET, APPROVE_CONTENT, approvals_waiting_count

NAV_ITEMS = [
    ("Approvals", "publishing:inbox", (APPROVE_CONTENT, APPROVE_ASSET)),
    ("Content", "publishing:content-list", "publishing.view_content"),
    ("Campaigns", "publishing:campaign-list", "publishing.view_campaign"),
    ("Calendar", "publishing:calendar", "publishing.view_publishingjob"),
    ("Email sends", "email-send-list", "publishing.view_emailcampaign"),
    ("Email templates", "email-template-list", "publishing.view_emailtemplate"),
]
NAV_BADGES = {"publishing:inbox": approvals_waiting_count}
