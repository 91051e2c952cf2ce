"""The public face of gateways: domain apps call only these functions."""

from gateways.chain import ChainResult, account_run, chain_run
from gateways.services.accounts import (
    ProbeOutcome,
    account_create,
    account_delete,
    account_probe,
    account_update,
    credentials_reencrypt_all,
)
from gateways.services.email import FailoverEmailSession, open_email_session
from gateways.services.operations import (
    PostingSession,
    enrich_people,
    fetch_post_metrics,
    inbox_cursor_advance,
    lookup_post,
    open_posting_session,
    publish_post,
    publish_posts,
    publish_posts_in_turn,
    read_inbox,
    sync_records,
    verify_emails,
)
from gateways.services.payments import payments_account, payments_list_page, payments_webhook_secrets
from gateways.services.push import PushReceipt, PushTarget, push_send, vapid_public_key
from gateways.services.repositories import (
    code_host_public_email_read,
    repository_account,
    repository_figures_read,
    repository_releases_read,
    repository_stargazers_read,
    repository_traffic_read,
)
from gateways.services.ses import (
    SesEvent,
    SnsCertificateUnavailable,
    SnsMessageInvalid,
    ses_notification_events,
    ses_notification_topics,
    sns_message_verify,
    sns_subscription_confirm,
)
from gateways.services.sms import sms_lookup, sms_send, sms_webhook_problem, sms_webhook_secrets
from gateways.services.text import generate_text
from gateways.services.weather import place_find, weather_account, weather_read
from gateways.services.webhooks import webhook_secrets

__all__ = [
    "ChainResult",
    "FailoverEmailSession",
    "PostingSession",
    "ProbeOutcome",
    "SesEvent",
    "SnsCertificateUnavailable",
    "SnsMessageInvalid",
    "account_create",
    "account_delete",
    "account_probe",
    "account_run",
    "account_update",
    "chain_run",
    "code_host_public_email_read",
    "credentials_reencrypt_all",
    "enrich_people",
    "fetch_post_metrics",
    "generate_text",
    "inbox_cursor_advance",
    "lookup_post",
    "open_email_session",
    "open_posting_session",
    "payments_account",
    "payments_list_page",
    "payments_webhook_secrets",
    "publish_post",
    "publish_posts",
    "publish_posts_in_turn",
    "read_inbox",
    "repository_account",
    "repository_figures_read",
    "repository_releases_read",
    "repository_stargazers_read",
    "repository_traffic_read",
    "ses_notification_events",
    "ses_notification_topics",
    "sns_message_verify",
    "sns_subscription_confirm",
    "PushReceipt",
    "PushTarget",
    "push_send",
    "vapid_public_key",
    "sms_lookup",
    "sms_send",
    "sms_webhook_problem",
    "sms_webhook_secrets",
    "sync_records",
    "verify_emails",
    "place_find",
    "weather_account",
    "weather_read",
    "webhook_secrets",
]
