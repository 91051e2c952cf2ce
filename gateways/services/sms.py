"""Text messages: sending through the SMS chain, looking a message up on the account that may have sent
it, and the tokens its webhooks are signed with."""

from datetime import datetime

from gateways import twilio_signature
from gateways.capabilities import Capability, OutgoingSms, SmsReceipt, SmsSendingAdapter
from gateways.chain import ChainResult, account_run, chain_run, enabled_accounts
from gateways.services.webhooks import webhook_secrets


def sms_send(message: OutgoingSms) -> ChainResult:
    """Through the first SMS account that can take it; `value` is the SmsReceipt, `account_id` which
    account took it. Raises NoProviderAvailable, ProviderRejected or OutcomeUnknown."""
    return chain_run(capability=Capability.SMS_SENDING, operation=lambda adapter: adapter.send(message))


def sms_lookup(*, to: str, body: str, sent_after: datetime, provider: str = "") -> SmsReceipt | None:
    """The message, if the account named `provider` made it (any enabled SMS account when "": a worker that
    stopped after marking a message did not say which account it was giving it to). Raises
    ProviderUnavailable when an account cannot be asked, so "not found" always means every one was."""
    def find(adapter: SmsSendingAdapter) -> SmsReceipt | None:
        return adapter.lookup(to=to, body=body, sent_after=sent_after)

    for account in enabled_accounts(Capability.SMS_SENDING):
        if provider and account.name != provider:
            continue
        found = account_run(account_id=account.pk, capability=Capability.SMS_SENDING, operation=find).value
        if found is not None:
            return found
    return None


def sms_webhook_secrets() -> list[str]:
    return webhook_secrets(Capability.SMS_SENDING)


def sms_webhook_problem(*, header: str, url: str, params: list[tuple[str, str]]) -> str:
    """Why a webhook request is not the SMS provider's (its X-Twilio-Signature), or "" when it is."""
    try:
        twilio_signature.verify(secrets=sms_webhook_secrets(), header=header, url=url, params=params)
    except twilio_signature.SignatureInvalid as exc:
        return str(exc)
    return ""
