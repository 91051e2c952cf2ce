"""Demo provider accounts: fallbacks that call no one, so `make run` works offline and
`self_check` reports every capability."""

from gateways.capabilities import Capability
from gateways.models import ProviderAccount
from gateways.services import account_create

DEMO_ACCOUNTS = (
    {"capability": Capability.LEAD_ENRICHMENT, "adapter": "noop_lead_enrichment", "name": "Demo: no enrichment"},
    {"capability": Capability.EMAIL_VERIFICATION, "adapter": "noop_email_verification",
     "name": "Demo: no verification"},
    {"capability": Capability.EMAIL_SENDING, "adapter": "noop_email_sending", "name": "Demo: no sending"},
    {"capability": Capability.INBOX_READING, "adapter": "noop_inbox_reading", "name": "Demo: no inbox"},
    {"capability": Capability.CRM_SYNC, "adapter": "noop_crm_sync", "name": "Demo: no CRM sync"},
    {"capability": Capability.CHANNEL_POSTING, "adapter": "manual_linkedin", "name": "Demo: LinkedIn (manual)"},
    {"capability": Capability.CHANNEL_POSTING, "adapter": "manual", "name": "Demo: any channel (manual)"},
    {"capability": Capability.METRICS_FETCHING, "adapter": "noop_metrics_fetching", "name": "Demo: no metrics"},
)


def seed() -> str:
    existing = set(ProviderAccount.objects.filter(name__in=[a["name"] for a in DEMO_ACCOUNTS])
                   .values_list("name", flat=True))
    created = [account_create(priority=1000, **spec).name for spec in DEMO_ACCOUNTS if spec["name"] not in existing]
    return f"provider accounts: {len(created)} created, {len(existing)} already there (fallbacks, no outside calls)"
