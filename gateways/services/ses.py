"""Amazon SES notifications through SNS: which topics are ours, verifying what SNS posts, and
reading what the notification says. The HTTP endpoint lives with email (publishing.email)."""

from gateways.adapters.ses import SesAdapter
from gateways.capabilities import Capability
from gateways.chain import adapter_for, enabled_accounts
from gateways.crypto import CredentialsUnreadable
from gateways.ses_events import SesEvent, ses_events
from gateways.sns import SnsCertificateUnavailable, SnsMessageInvalid, confirm_subscription, verify_message

__all__ = ["SesEvent", "SnsCertificateUnavailable", "SnsMessageInvalid", "ses_notification_events",
           "ses_notification_topics", "sns_message_verify", "sns_subscription_confirm"]


def ses_notification_topics() -> set[str]:
    """The SNS topic ARNs the enabled SES sending accounts name: a message from any other topic, however
    well signed (anyone can run an SNS topic), is not ours to act on."""
    topics: set[str] = set()
    for account in enabled_accounts(Capability.EMAIL_SENDING):
        if account.adapter != SesAdapter.key:
            continue
        try:
            adapter = adapter_for(account)
        except (CredentialsUnreadable, LookupError):
            continue
        topics.update(adapter.notification_topic_arns())
    return topics


def sns_message_verify(message: dict) -> None:
    """Raises SnsMessageInvalid unless SNS signed the message, recently, for one of our topics. The
    topic is looked at first: a message of anyone else's topic is refused without fetching anything."""
    if not isinstance(message, dict) or message.get("TopicArn") not in ses_notification_topics():
        raise SnsMessageInvalid("the message comes from a topic no SES account names")
    verify_message(message)


def sns_subscription_confirm(message: dict) -> None:
    confirm_subscription(message)


def ses_notification_events(message: dict) -> list[SesEvent]:
    return ses_events(str(message.get("Message") or ""), topic_arn=str(message.get("TopicArn") or ""))
