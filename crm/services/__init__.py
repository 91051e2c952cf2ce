"""Every write of the CRM. Keyword-only, each in a transaction, raising DomainError."""

from crm.services.catalog import (
    company_create,
    company_delete,
    company_update,
    contact_delete,
    contacts_delete,
    segment_create,
    segment_delete,
    segment_update,
)
from crm.services.contact_pages import contact_list_numbering_queue
from crm.services.contacts import (
    contact_create,
    contact_merge_enrichment,
    contact_transition,
    contact_transition_if_allowed,
    contact_update,
    contacts_tag,
    contacts_transition,
    contacts_untag,
    email_normalise,
)
from crm.services.engagement import (
    contact_mark_bounced,
    contact_mark_complained,
    contact_record_event,
    contact_unsubscribe,
    contacts_record_engagement,
    contacts_unsubscribe,
    suppression_add,
    suppression_parse,
    suppression_remove,
)
from crm.services.enrichment import (
    enrichment_run_cancel,
    enrichment_run_create,
    enrichment_run_process,
    enrichment_runs_waiting,
)
from crm.services.forms import (
    form_confirmation_send,
    form_create,
    form_delete,
    form_submit,
    form_update,
    submission_confirm,
    submission_confirmation_reconcile,
    submission_confirmation_resend,
)
from crm.services.lists import (
    contact_list_add,
    contact_list_create,
    contact_list_delete,
    contact_list_remove,
    contact_list_update,
)
from crm.services.payments import stripe_charge_record, stripe_customer_record, stripe_event_apply
from crm.services.repositories import (
    release_from_webhook,
    repositories_poll,
    repository_poll,
    repository_poll_soon,
    repository_unwatch,
    repository_watch,
)
from crm.services.scores import contact_scores_apply
from crm.services.segment_entries import segment_entries_refresh, segments_entries_refresh
from crm.services.sms import (
    contact_sms_consent_set,
    contacts_with_number,
    sms_consent_set,
    sms_inbound_apply,
)
from crm.services.topics import contact_topics_set, topic_create, topic_delete, topic_update
from crm.services.value_tiers import value_tiers_recompute

__all__ = [
    "contact_list_numbering_queue",
    "company_create", "company_delete", "company_update", "contact_delete", "contacts_delete", "segment_create",
    "segment_delete", "segment_update", "segment_entries_refresh", "segments_entries_refresh",
    "contact_create", "contact_merge_enrichment", "contact_scores_apply", "contact_transition",
    "contact_transition_if_allowed", "contact_update", "contacts_tag", "contacts_transition", "contacts_untag",
    "email_normalise",
    "contact_mark_bounced", "contact_mark_complained", "contact_record_event", "contact_unsubscribe",
    "contacts_record_engagement", "contacts_unsubscribe", "suppression_add", "suppression_parse", "suppression_remove",
    "contact_list_add", "contact_list_create", "contact_list_delete", "contact_list_remove", "contact_list_update",
    "contact_topics_set", "topic_create", "topic_delete", "topic_update",
    "enrichment_run_cancel", "enrichment_run_create", "enrichment_run_process", "enrichment_runs_waiting",
    "stripe_charge_record", "stripe_customer_record", "stripe_event_apply", "value_tiers_recompute",
    "release_from_webhook", "repositories_poll", "repository_poll", "repository_poll_soon",
    "repository_unwatch", "repository_watch",
    "form_confirmation_send", "form_create", "form_delete", "form_submit", "form_update", "submission_confirm",
    "submission_confirmation_reconcile", "submission_confirmation_resend",
    "contact_sms_consent_set", "contacts_with_number", "sms_consent_set", "sms_inbound_apply",
]
