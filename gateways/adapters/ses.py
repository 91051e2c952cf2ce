"""Sending email through Amazon SES's API (key "ses"): SESv2 SendEmail with the raw message, so the
headers, List-Unsubscribe, tracking links and body are the bytes the SMTP adapter would send
(gateways.mail.compose). SES replaces the Message-ID with its own ("If you provide a Message-ID header,
Amazon SES overrides the header with its own value", https://docs.aws.amazon.com/ses/latest/dg/header-fields.html):
the receipt carries SES's, so replies and bounces, which quote what the recipient got, find their delivery.
AWS documents the MessageId SendEmail answers but not the domain of the header built from it; see
ses_message_ids for what is recorded and how notifications are matched whichever it is.

Plain HTTP through the guarded client with our own SigV4 signing (gateways.aws), not boto3: botocore
opens its own connections, out of reach of the address guard every outbound connection must pass,
and the two calls used here are one JSON request each.

- GetAccount, when a session opens: sending enabled, the daily quota (Max24HourSend, -1 for none)
  and the maximum send rate. A quota used up is a refusal (BudgetSpent): nothing was sent, the next
  account takes the mail, and the account's health is not marked down.
- Sends are paced at MaxSendRate through the account's shared token bucket when the account sets no
  rate limit of its own (with one, the sending session already paces by it).
- SendEmail's errors, as the SESv2 service model lists them (API_SendEmail.html#API_SendEmail_Errors, and
  botocore's data/sesv2/2019-09-27/service-2.json): TooManyRequestsException (429), LimitExceededException,
  AccountSuspendedException, SendingPausedException, MessageRejected, MailFromDomainNotVerifiedException,
  BadRequestException (400) and NotFoundException (404). The sending limits come as a throttling error whose
  message says "Daily message quota exceeded" or "Maximum sending rate exceeded"
  (https://docs.aws.amazon.com/ses/latest/dg/manage-sending-quotas-errors.html), so the message text decides
  first: a used-up daily quota is BudgetSpent, the rate is RateLimited. Then 429 and the throttling codes:
  RateLimited; 401/403 and the credential codes: ProviderUnavailable; a suspended or paused account, an
  unverified MAIL FROM domain or an unknown configuration set: ProviderUnavailable with advice;
  LimitExceededException otherwise ("too many instances of the specified resource type", not a rate) and the
  other 400s: ProviderRejected; a read timeout after SendEmail was written: OutcomeUnknown (it may have been
  accepted).
- Each message carries an SES message tag naming its delivery (the VERP tag an SMTP return path would
  carry), which comes back in bounce, complaint and delivery notifications (mail.tags).
"""

from __future__ import annotations

import base64
import json
import re
import threading
import time
from dataclasses import dataclass
from typing import ClassVar

import requests
from django.conf import settings

from aicmo_site.env import env_float
from gateways import conf, ratelimit
from gateways.adapters._http import HttpAdapterMixin
from gateways.aws import signed_headers
from gateways.capabilities import EmailSendingAdapter, EmailSession, OutgoingEmail, ProbeResult, SendReceipt, register
from gateways.chain import current_account
from gateways.errors import BudgetSpent, GatewayError, ProviderRejected, ProviderUnavailable, RateLimited
from gateways.mail.compose import render_message
from gateways.send_steps import SendSteps, Step, run_steps

SIGNING_SERVICE = "ses"
DELIVERY_TAG = "aicmo-delivery"
_REGION = re.compile(r"[a-z]{2}(-[a-z]+)+-\d")
_THROTTLED = {"TooManyRequestsException", "Throttling", "ThrottlingException"}
_ACCOUNT_PROBLEMS = {"AccountSuspendedException", "SendingPausedException", "MailFromDomainNotVerifiedException",
                     "NotFoundException"}
# Codes of a refusal of this send only: another account would be refused the same way.
_MESSAGE_PROBLEMS = {"MessageRejected", "BadRequestException", "LimitExceededException"}
_CREDENTIAL_PROBLEMS = {"UnrecognizedClientException", "InvalidClientTokenId", "SignatureDoesNotMatch",
                        "InvalidSignatureException", "AccessDeniedException", "AccessDenied",
                        "IncompleteSignature", "MissingAuthenticationToken"}


def throttle_retry_seconds() -> float:
    """How long to leave an SES account alone after it throttled a send without saying how long (SES sends
    no Retry-After). AWS advises waiting "up to 10 minutes" before retrying a throttled send
    (manage-sending-quotas-errors.html); the send session paces at MaxSendRate, so a throttle is rare and
    a short first wait loses least time; operators may raise it with this setting."""
    return getattr(settings, "GATEWAYS_SES_THROTTLE_RETRY_SECONDS",
                   env_float("GATEWAYS_SES_THROTTLE_RETRY_SECONDS", 1.0))


def quota_retry_seconds() -> float:
    """When to look again at an account whose 24-hour quota is used up (SES counts a rolling window)."""
    return getattr(settings, "GATEWAYS_SES_QUOTA_RETRY_SECONDS", env_float("GATEWAYS_SES_QUOTA_RETRY_SECONDS", 3600))


def ses_message_ids(ses_id: str, region: str) -> list[str]:
    """The Message-ID headers SES may give a message it accepted, the one expected for `region` first:
    `<id@email.amazonses.com>` in us-east-1, `<id@<region>.amazonses.com>` elsewhere. That domain is what
    SES mail is seen to carry, not something AWS documents (header-fields.html only says SES sets its own
    value), so the receipt records the first as a best guess and bounce, complaint and delivery
    notifications are matched on every form: both of these, plus the exact header SES put in the
    notification's commonHeaders.messageId and headers when the identity sends them (gateways.ses_events)."""
    ses_id = ses_id.strip().strip("<>")
    if not ses_id:
        return []
    regional = f"<{ses_id}@{region}.amazonses.com>"
    classic = f"<{ses_id}@email.amazonses.com>"
    return [classic, regional] if region in ("", "us-east-1") else [regional, classic]


def _xml_field(text: str, name: str) -> str:
    match = re.search(rf"<{name}>([^<]*)</{name}>", text)
    return match.group(1).strip() if match else ""


def error_code(response: requests.Response) -> str:
    """The AWS error code of a failed answer: the x-amzn-ErrorType header (restJson), the body's __type
    or code, or an XML <Code> (AWS's authentication layer answers in XML), without a namespace
    ("...#Throttling") or a trailing URL ("Throttling:http...")."""
    code = response.headers.get("x-amzn-ErrorType", "")
    if not code:
        try:
            body = response.json()
        except ValueError:
            body = None
        if isinstance(body, dict):
            code = str(body.get("__type") or body.get("code") or body.get("Code") or "")
        else:
            code = _xml_field(response.text, "Code")
    return code.split(":", 1)[0].rsplit("#", 1)[-1].strip()


def _said(response: requests.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return (_xml_field(response.text, "Message") or response.text.strip())[:300]
    if isinstance(body, dict):
        return str(body.get("message") or body.get("Message") or "")[:300]
    return ""


def quota_used_up(quota: SendQuota, *, provider: str) -> BudgetSpent:
    return BudgetSpent(f"Amazon SES: the 24-hour quota of {quota.max_24_hour_send:.0f} messages is used up",
                       provider=provider, retry_after=quota_retry_seconds(),
                       advice="Ask AWS for a higher quota, or add another sending account.")


@dataclass(frozen=True)
class SendQuota:
    max_24_hour_send: float  # -1: no daily limit
    max_send_rate: float
    sent_last_24_hours: float

    @property
    def remaining(self) -> float | None:
        if self.max_24_hour_send < 0:
            return None
        return max(0.0, self.max_24_hour_send - self.sent_last_24_hours)

    def pace(self) -> tuple[int, float] | None:
        """The rate limit SES sets, as (requests, seconds) for the token bucket."""
        if self.max_send_rate <= 0:
            return None
        if self.max_send_rate >= 1:
            return int(self.max_send_rate), 1.0
        return 1, 1 / self.max_send_rate


@register
class SesAdapter(HttpAdapterMixin, EmailSendingAdapter):
    key = "ses"
    label = "Amazon SES"
    parameters = ("region", "from_email", "configuration_set", "notification_topic_arns")
    secret_parameters = ("access_key_id", "secret_access_key")
    credentials_advice = ("Amazon SES answers {status}: the access key is wrong, inactive or may not call "
                          "ses:SendEmail and ses:GetAccount; update it in Provider accounts.")
    default_rate_limit: ClassVar[tuple[int, float] | None] = None  # GetAccount's MaxSendRate, read per session

    @property
    def region(self) -> str:
        region = str(self.settings.get("region") or "").strip()
        if not _REGION.fullmatch(region):
            raise ProviderUnavailable(f"Amazon SES: region {region!r} is not an AWS region", provider=self.name,
                                      advice="Set the region (e.g. eu-west-1) in Provider accounts.")
        return region

    @property
    def endpoint(self) -> str:
        return self.base_url or f"https://email.{self.region}.amazonaws.com"

    @property
    def from_email(self) -> str:
        return str(self.settings.get("from_email") or "").strip()

    @property
    def configuration_set(self) -> str:
        return str(self.settings.get("configuration_set") or "").strip()

    def notification_topic_arns(self) -> list[str]:
        """The SNS topics whose bounce, complaint and delivery notifications are this account's."""
        value = self.settings.get("notification_topic_arns") or ""
        items = value if isinstance(value, list) else re.split(r"[\s,]+", str(value))
        return [item.strip() for item in items if str(item).strip()]

    def http_error(self, response: requests.Response) -> GatewayError | None:
        code, said = error_code(response), _said(response)
        message = f"Amazon SES answered {response.status_code} {code or ''}: {said}".replace(" :", ":")
        lowered = said.lower()
        if "quota exceeded" in lowered:
            return BudgetSpent(message, retry_after=quota_retry_seconds(),
                               advice="The account's 24-hour sending quota is used up; ask AWS for a higher "
                                      "quota or add another sending account.")
        if response.status_code == 429 or code in _THROTTLED or "sending rate exceeded" in lowered:
            retry = response.headers.get("Retry-After")
            return RateLimited(message, retry_after=float(retry) if retry and retry.isdigit()
                               else throttle_retry_seconds(),
                               advice="Amazon SES asks us to send more slowly; it will be tried again.")
        if code in _CREDENTIAL_PROBLEMS or response.status_code in (401, 403):
            return ProviderUnavailable(message, advice=self.credentials_advice.format(status=response.status_code))
        if code in _ACCOUNT_PROBLEMS:
            return ProviderUnavailable(message, advice="The SES account cannot send now (suspended, paused, an "
                                                       "unverified MAIL FROM domain or an unknown configuration "
                                                       "set): check it in the AWS console.")
        if code in _MESSAGE_PROBLEMS or 400 <= response.status_code < 500:
            return ProviderRejected(message, advice="Amazon SES refused this message (an unverified sender "
                                                    "or recipient in the sandbox, or a malformed address).")
        return None

    def call(self, method: str, path: str, payload: dict | None = None, *, idempotent: bool | None = None) -> dict:
        url = f"{self.endpoint}{path}"
        body = json.dumps(payload).encode() if payload is not None else b""
        headers = signed_headers(method=method, url=url, body=body, region=self.region, service=SIGNING_SERVICE,
                                 access_key_id=self.credential("access_key_id"),
                                 secret_access_key=self.credential("secret_access_key"),
                                 headers={"Content-Type": "application/json"} if payload is not None else None)
        return self.http.request_json(method, url, data=body or None, headers=headers, idempotent=idempotent)

    def account_state(self) -> tuple[SendQuota, dict]:
        answer = self.call("GET", "/v2/email/account")
        quota = answer.get("SendQuota") or {}
        try:
            return SendQuota(float(quota["Max24HourSend"]), float(quota["MaxSendRate"]),
                             float(quota.get("SentLast24Hours") or 0)), answer
        except (KeyError, TypeError, ValueError):
            raise ProviderUnavailable("Amazon SES: GetAccount answered without a sending quota", provider=self.name)

    def open(self) -> SesSession:
        quota, answer = self.account_state()
        if answer.get("SendingEnabled") is False:
            raise ProviderUnavailable("Amazon SES: sending is disabled for this account", provider=self.name,
                                      advice="Sending was paused for the account; resume it in the AWS console.")
        if quota.remaining is not None and quota.remaining < 1:
            raise quota_used_up(quota, provider=self.name)
        account = current_account()
        return SesSession(self, quota, account_id=account.pk if account else None,
                          own_rate_limit=bool(account and account.rate_limit))

    def probe(self) -> ProbeResult:
        def account() -> str:
            quota, answer = self.account_state()
            sandbox = "" if answer.get("ProductionAccessEnabled") else ", sandbox"
            daily = "no daily limit" if quota.remaining is None else (
                f"{quota.sent_last_24_hours:.0f} of {quota.max_24_hour_send:.0f} sent in 24 h")
            return f"sending {'enabled' if answer.get('SendingEnabled', True) else 'disabled'}{sandbox}, " \
                   f"{daily}, {quota.max_send_rate:g}/s"

        return self.timed_probe(account)


class SesSession(EmailSession):
    """Sends over the adapter's kept-alive HTTPS client, within the quota read when it opened."""

    def __init__(self, adapter: SesAdapter, quota: SendQuota, *, account_id: int | None, own_rate_limit: bool):
        self.adapter = adapter
        self.provider = adapter.name
        self.quota = quota
        self.remaining = quota.remaining
        self.account_id = account_id
        self.pace_limit = None if own_rate_limit else quota.pace()
        self._lock = threading.Lock()
        self._last_sent_at: float | None = None

    def _pace(self) -> None:
        if self.pace_limit is None:
            return
        count, period = self.pace_limit
        if self.account_id is not None:
            # Waiting one period is always allowed: below one message a second, the next token is
            # always further off than the chain's usual wait.
            waited = ratelimit.take_token(self.account_id, self.pace_limit,
                                          max_wait=max(conf.rate_limit_max_wait_seconds(), period / count))
            if waited is None:
                raise RateLimited(f"Amazon SES: the account's sending rate of {count / period:g}/s is reached",
                                  provider=self.provider, retry_after=period / count)
            return
        # Outside a chain (a direct call) only this session's own sends can be paced.
        with self._lock:
            if self._last_sent_at is not None:
                wait = self._last_sent_at + period / count - time.monotonic()
                if wait > 0:
                    time.sleep(wait)
            self._last_sent_at = time.monotonic()

    def send(self, message: OutgoingEmail) -> SendReceipt:
        return run_steps(self.send_steps(message))

    def send_steps(self, message: OutgoingEmail) -> SendSteps[SendReceipt]:
        """Everything that can refuse the message without sending it (rendering, the quota, the pace)
        comes before BEFORE_END, where the caller records it as going out; then one request."""
        try:
            rendered = render_message(message, default_from=self.adapter.from_email)
        except ValueError as exc:
            raise ProviderRejected(f"Message cannot be sent: {exc}", provider=self.provider)
        if self.remaining is not None and self.remaining < 1:
            raise quota_used_up(self.quota, provider=self.provider)
        self._pace()
        yield Step.BEFORE_END
        payload: dict = {
            "FromEmailAddress": rendered.sender,
            "Destination": {"ToAddresses": [rendered.recipient]},
            "Content": {"Raw": {"Data": base64.b64encode(rendered.data).decode("ascii")}},
        }
        if self.adapter.configuration_set:
            payload["ConfigurationSetName"] = self.adapter.configuration_set
        if message.return_path_tag:
            payload["EmailTags"] = [{"Name": DELIVERY_TAG, "Value": message.return_path_tag}]
        answer = self.adapter.call("POST", "/v2/email/outbound-emails", payload, idempotent=False)
        if self.remaining is not None:
            self.remaining -= 1
        ses_id = str(answer.get("MessageId") or "")
        if not ses_id:
            # Accepted (2xx) without the id: sent, but nothing will match its notifications by id.
            return SendReceipt(message_id=rendered.message_id, provider=self.provider, response="accepted, no id")
        return SendReceipt(message_id=ses_message_ids(ses_id, self.adapter.region)[0], provider=self.provider,
                           response=f"SES MessageId {ses_id}")

    def close(self) -> None:
        """Nothing to end: the HTTPS connection stays with the adapter for the next session."""
