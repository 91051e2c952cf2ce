"""Demo provider accounts: placeholders that call no one, so `make run` works offline. Each is named for
what it is ("Placeholder: sends nothing"), so no page can pass one off as a real provider."""

from gateways.capabilities import Capability
from gateways.models import ProviderAccount
from gateways.services import account_create, account_update

DEMO_ACCOUNTS = (
    {"capability": Capability.LEAD_ENRICHMENT, "adapter": "noop_lead_enrichment",
     "name": "Placeholder: enriches no one"},
    {"capability": Capability.EMAIL_VERIFICATION, "adapter": "noop_email_verification",
     "name": "Placeholder: checks nothing"},
    {"capability": Capability.EMAIL_SENDING, "adapter": "noop_email_sending", "name": "Placeholder: sends nothing"},
    {"capability": Capability.INBOX_READING, "adapter": "noop_inbox_reading", "name": "Placeholder: reads no mail"},
    {"capability": Capability.CRM_SYNC, "adapter": "noop_crm_sync", "name": "Placeholder: syncs nothing"},
    {"capability": Capability.CHANNEL_POSTING, "adapter": "manual_linkedin", "name": "Manual: LinkedIn"},
    {"capability": Capability.CHANNEL_POSTING, "adapter": "manual", "name": "Manual: any channel"},
    {"capability": Capability.METRICS_FETCHING, "adapter": "noop_metrics_fetching", "name": "Placeholder: no metrics"},
)
# What earlier demos called them, renamed in place so a second seed adds no second placeholder.
EARLIER_NAMES = {
    "Demo: no enrichment": "Placeholder: enriches no one", "Demo: no verification": "Placeholder: checks nothing",
    "Demo: no sending": "Placeholder: sends nothing", "Demo: no inbox": "Placeholder: reads no mail",
    "Demo: no CRM sync": "Placeholder: syncs nothing", "Demo: LinkedIn (manual)": "Manual: LinkedIn",
    "Demo: any channel (manual)": "Manual: any channel", "Demo: no metrics": "Placeholder: no metrics",
}


def seed() -> str:
    for account in ProviderAccount.objects.filter(name__in=list(EARLIER_NAMES)):
        account_update(account=account, name=EARLIER_NAMES[account.name])
    existing = set(ProviderAccount.objects.filter(name__in=[a["name"] for a in DEMO_ACCOUNTS])
                   .values_list("name", flat=True))
    created = [account_create(priority=1000, **spec).name for spec in DEMO_ACCOUNTS if spec["name"] not in existing]
    return (f"provider accounts: {len(created)} created, {len(existing)} already there (placeholders and manual "
            "channels: nothing is sent, enriched or synced until you add real providers)")
