"""Every write of email campaigns. Keyword-only, each in a transaction, raising DomainError."""

from publishing.email.services.blocks import email_block_create, email_block_delete, email_block_update
from publishing.email.services.campaigns import (
    email_campaign_cancel,
    email_campaign_checklist,
    email_campaign_close,
    email_campaign_complete_if_done,
    email_campaign_open,
    email_campaign_pause,
    email_campaign_resume,
    email_campaign_schedule,
    email_campaign_send,
    email_campaign_set_up,
    email_campaign_transition,
    email_campaigns_start_due,
    email_deliveries_add,
    email_sending_readiness,
    leases_recover,
)
from publishing.email.services.sends import email_send_plan
from publishing.email.services.templates import (
    email_template_create,
    email_template_preview,
    email_template_test_send,
    email_template_update,
)
from publishing.email.services.wake import campaign_wake

__all__ = [
    "campaign_wake", "email_block_create", "email_block_delete", "email_block_update", "email_campaign_cancel",
    "email_campaign_checklist", "email_campaign_close", "email_campaign_complete_if_done", "email_campaign_open",
    "email_campaign_pause", "email_campaign_resume", "email_campaign_schedule", "email_campaign_send",
    "email_campaign_set_up", "email_campaign_transition", "email_campaigns_start_due", "email_deliveries_add",
    "email_send_plan", "email_sending_readiness", "email_template_create", "email_template_preview",
    "email_template_test_send", "email_template_update", "leases_recover",
]
