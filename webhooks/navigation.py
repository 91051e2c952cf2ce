# Admins hold every permission; no other role sees webhooks.
NAV_ITEMS = [
    ("Webhook subscriptions", "webhooks:subscription-list", "webhooks.view_webhooksubscription"),
]
