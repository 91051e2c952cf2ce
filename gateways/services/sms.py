"""Text messages: sending through the SMS chain, looking a message up on the account that may have sent
it, and the tokens its webhooks are signed with."""

from datetime import datetime

from gateways.capabilities import Capability, OutgoingSms, SmsReceipt, SmsSendingAdapter
from gateways.chain import ChainResult, account_run, chain_run
from gateways.services.webhooks import webhook_secrets


def sms_send(message: OutgoingSms) -> ChainResult:
    """Through the first SMS account that can take it; `value` is the SmsReceipt, `account_id` which
    account took it. Raises NoProviderAvailable, ProviderRejected or OutcomeUnknown."""
    return chain_run(capability=Capability.SMS_SENDING, operation=lambda adapter: adapter.send(message))


def sms_lookup(*, account_id: int, to: str, body: str, sent_after: datetime) -> SmsReceipt | None:
    def find(adapter: SmsSendingAdapter) -> SmsReceipt | None:
        return adapter.lookup(to=to, body=body, sent_after=sent_after)

    return account_run(account_id=account_id, capability=Capability.SMS_SENDING, operation=find).value


def sms_webhook_secrets() -> list[str]:
    return webhook_secrets(Capability.SMS_SENDING)
