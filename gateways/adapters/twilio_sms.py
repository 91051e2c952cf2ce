"""Twilio Programmable Messaging (https://www.twilio.com/docs/messaging/api/message-resource).

Plain HTTP through the gateways client rather than the `twilio` library: the library's requests would
bypass the address guard, the secret redaction and the error mapping every adapter shares, and the
contract is two calls: a form-encoded POST that creates a Message (To, From or MessagingServiceSid,
Body, StatusCallback; 201 with its `sid` and `status`) and the list of Messages filtered by `To` and
`DateSent>=`, which is how an unknown outcome is reconciled (Twilio takes no idempotency key).

Errors are JSON `{"code", "message", "more_info", "status"}`; the codes read here are 21211 (invalid To),
21610 (the recipient replied STOP to this sender: Twilio refuses every message until START), 20003
(authentication) and 20429 (too many requests).
"""

from __future__ import annotations

import base64
from datetime import datetime
from email.utils import parsedate_to_datetime

import requests

from gateways.adapters._http import HttpAdapterMixin, json_object
from gateways.capabilities import OutgoingSms, SmsReceipt, SmsSendingAdapter, register
from gateways.errors import GatewayError, ProviderRejected, ProviderUnavailable, RateLimited
from gateways.http import retry_after_seconds

API_VERSION = "2010-04-01"
INVALID_TO = 21211
UNSUBSCRIBED_RECIPIENT = 21610
AUTHENTICATE = 20003
TOO_MANY_REQUESTS = 20429
# Pages read when looking a message up: recent messages to one number are few; more is a runaway.
LOOKUP_PAGES = 5


def _when(value) -> datetime | None:
    """Twilio's dates are RFC 2822 ("Thu, 30 Jul 2015 20:12:31 +0000")."""
    try:
        return parsedate_to_datetime(str(value)) if value else None
    except (TypeError, ValueError):
        return None


@register
class TwilioSmsAdapter(HttpAdapterMixin, SmsSendingAdapter):
    key = "twilio"
    label = "Twilio"
    parameters = ("account_sid", "from_number", "messaging_service_sid")
    secret_parameters = ("auth_token", "previous_auth_token")
    # Twilio signs its webhooks (X-Twilio-Signature) with the account's auth token; while a token is
    # rolled over the previous one still signs.
    webhook_secret_parameters = ("auth_token", "previous_auth_token")
    default_base_url = "https://api.twilio.com"
    credentials_advice = ("Twilio answers {status}: the Account SID or auth token is wrong or revoked; "
                          "enter them again in Provider accounts.")

    def http_headers(self) -> dict[str, str]:
        pair = f"{self.setting('account_sid')}:{self.credential('auth_token')}".encode()
        return {"Authorization": f"Basic {base64.b64encode(pair).decode()}"}

    def http_error(self, response: requests.Response) -> GatewayError | None:
        body = json_object(response)
        code = body.get("code")
        said = str(body.get("message") or "").strip()[:300]
        details = {"code": code} if isinstance(code, int) else {}
        if code == UNSUBSCRIBED_RECIPIENT:
            return ProviderRejected(f"Twilio refused: the recipient has unsubscribed (21610: {said})",
                                    status=response.status_code, details={**details, "opted_out": True},
                                    advice="The contact replied STOP; they receive nothing until they reply START.")
        if code == INVALID_TO:
            return ProviderRejected(f"Twilio refused the phone number (21211: {said})", status=response.status_code,
                                    details=details, advice="Correct the contact's phone number (E.164, e.g. "
                                                            "+447700900123).")
        if code == TOO_MANY_REQUESTS or response.status_code == 429:
            retry_after = retry_after_seconds(response)
            return RateLimited(f"Twilio asks to slow down ({code or 429}: {said})", status=response.status_code,
                               retry_after=retry_after, details=details,
                               advice="Lower this account's rate limit if it keeps happening.")
        if code == AUTHENTICATE:
            return ProviderUnavailable(f"Twilio could not authenticate the account (20003: {said})",
                                       status=response.status_code, details=details,
                                       advice=self.credentials_advice.format(status=response.status_code))
        return None

    def _messages_url(self) -> str:
        return self.url(f"/{API_VERSION}/Accounts/{self.setting('account_sid')}/Messages.json")

    def _receipt(self, message: dict) -> SmsReceipt:
        try:
            segments = int(message.get("num_segments") or 0)
        except (TypeError, ValueError):
            segments = 0
        return SmsReceipt(message_id=str(message.get("sid") or ""), provider=self.name,
                          status=str(message.get("status") or ""), segments=segments, raw=message)

    def send(self, message: OutgoingSms) -> SmsReceipt:
        form = {"To": message.to, "Body": message.body}
        service = str(self.settings.get("messaging_service_sid") or "").strip()
        if service:
            form["MessagingServiceSid"] = service
        else:
            form["From"] = self.setting("from_number")
        if message.status_callback:
            form["StatusCallback"] = message.status_callback
        answer = self.http.request_json("POST", self._messages_url(), data=form)
        receipt = self._receipt(answer)
        if not receipt.message_id:
            raise self.http.error(ProviderUnavailable, "Twilio accepted the request but named no message",
                                  advice="Check the message log in Twilio before sending again.")
        return receipt

    def lookup(self, *, to: str, body: str, sent_after: datetime) -> SmsReceipt | None:
        # DateSent>= takes a day; the exact moment is checked on each message's date_created.
        url: str | None = self._messages_url()
        params: dict | None = {"To": to, "DateSent>": sent_after.date().isoformat(), "PageSize": 50}
        after = sent_after.replace(microsecond=0)
        for _page in range(LOOKUP_PAGES):
            answer = self.http.request_json("GET", url, params=params)
            for found in answer.get("messages") or []:
                created = _when(found.get("date_created")) if isinstance(found, dict) else None
                if created and created >= after and found.get("body") == body and found.get("to") == to:
                    return self._receipt(found)
            next_page = answer.get("next_page_uri")
            if not next_page:
                return None
            url, params = self.url(str(next_page)), None
        return None

    def probe(self):
        def account() -> str:
            found = self.http.request_json("GET", self.url(f"/{API_VERSION}/Accounts/{self.setting('account_sid')}"
                                                           ".json"))
            return f"account {found.get('friendly_name', '?')} is {found.get('status', '?')}"

        return self.timed_probe(account)
