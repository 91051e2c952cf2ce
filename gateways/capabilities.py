"""The capabilities other apps ask for, and the data that crosses the boundary.

Domain apps never name a vendor: they ask a capability's chain (gateways.chain) and get these
dataclasses back. Adapters (gateways/adapters/) implement one capability each and register
with `@register`. Nothing here imports a domain app.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, ClassVar

from gateways.send_steps import SendSteps, at_once


class ProviderKind:
    REAL = "real"
    PLACEHOLDER = "placeholder"  # the no-op fallback: sends, enriches, syncs nothing
    MANUAL = "manual"  # prepares a draft that a person publishes


class Capability:
    LEAD_ENRICHMENT = "lead_enrichment"
    EMAIL_VERIFICATION = "email_verification"
    EMAIL_SENDING = "email_sending"
    INBOX_READING = "inbox_reading"
    CRM_SYNC = "crm_sync"
    CHANNEL_POSTING = "channel_posting"
    METRICS_FETCHING = "metrics_fetching"
    TEXT_GENERATION = "text_generation"
    PAYMENTS = "payments"
    REPOSITORY_SIGNALS = "repository_signals"
    WEATHER = "weather"
    SMS_SENDING = "sms_sending"

    CHOICES = (
        (LEAD_ENRICHMENT, "Lead enrichment"),
        (EMAIL_VERIFICATION, "Email verification"),
        (EMAIL_SENDING, "Email sending"),
        (INBOX_READING, "Inbox reading"),
        (CRM_SYNC, "CRM sync"),
        (CHANNEL_POSTING, "Channel posting"),
        (METRICS_FETCHING, "Metrics fetching"),
        (TEXT_GENERATION, "Text generation (AI)"),
        (PAYMENTS, "Payments"),
        (REPOSITORY_SIGNALS, "Repository signals (developer marketing)"),
        (WEATHER, "Weather"),
        (SMS_SENDING, "SMS sending"),
    )


# ---- data crossing the boundary -------------------------------------------------------------


@dataclass
class PersonQuery:
    """Who to enrich. `ref` is the caller's own identifier, echoed back on the result."""

    ref: str
    email: str = ""
    first_name: str = ""
    last_name: str = ""
    company: str = ""
    domain: str = ""
    linkedin_url: str = ""


@dataclass
class EnrichedPerson:
    """What a provider knows of a person. `fields` uses the contact's field names
    (first_name, last_name, job_title, phone, linkedin_url, city, country, company_name,
    company_domain, email); only keys the provider returned appear."""

    ref: str
    provider: str
    fields: dict[str, str]
    raw: dict[str, Any]
    email_status: str = ""  # valid, risky, invalid or "" when the provider did not verify


@dataclass
class EmailVerdict:
    email: str
    status: str  # valid, risky, invalid, unknown
    provider: str
    detail: str = ""
    raw: dict[str, Any] = field(default_factory=dict)


@dataclass
class OutgoingEmail:
    to: str
    subject: str
    text: str
    html: str = ""
    from_email: str = ""
    reply_to: str = ""
    headers: dict[str, str] = field(default_factory=dict)  # List-Unsubscribe etc.
    message_id: str = ""  # set by the caller so a resend can be recognised; generated when empty
    # Added to the envelope sender's local part (VERP: bounces+<tag>@example.com) by adapters with a
    # return path of their own, so a bounce that quotes nothing still names its message. [0-9a-z-] only.
    return_path_tag: str = ""


@dataclass
class SendReceipt:
    message_id: str
    provider: str
    response: str  # the provider's own answer, e.g. "250 2.0.0 Ok: queued as 4F2C1"


@dataclass
class InboundMessage:
    """A message read from a mailbox. kind: bounce, complaint, auto-reply, reply or other
    (gateways.mail.classify).

    uid_validity: the mailbox's UIDVALIDITY; when it changes, UIDs were reassigned and a stored
    cursor (last seen UID) means nothing any more. original_message_id: for a bounce, the Message-ID
    of the message that bounced (also put in `in_reply_to`, so bounces and replies are looked up the
    same way)."""

    uid: int
    kind: str
    message_id: str
    in_reply_to: str = ""
    references: list[str] = field(default_factory=list)
    from_email: str = ""
    subject: str = ""
    received_at: datetime | None = None
    text: str = ""
    bounce_recipient: str = ""  # the first of bounce_recipients
    bounce_recipients: list[str] = field(default_factory=list)  # failed, or complaining, recipients
    bounce_classes: dict[str, str] = field(default_factory=dict)  # recipient -> hard or soft
    bounce_type: str = ""  # hard or soft
    bounce_status: str = ""  # RFC 3463 code, e.g. 5.1.1
    bounce_diagnostic: str = ""
    uid_validity: int = 0
    original_message_id: str = ""
    return_path_tags: list[str] = field(default_factory=list)  # the "tag" of each local+tag@ it was delivered to


@dataclass
class SyncRecord:
    key: str  # value of the merge field (e.g. the email)
    fields: dict[str, Any]


@dataclass
class SyncResult:
    created: int
    updated: int
    failed: list[tuple[str, str]] = field(default_factory=list)  # (key, reason)
    # Records the provider says it holds after the call; created + updated may be less when it does not say which.
    written: int = 0


@dataclass
class ChannelPost:
    """One post to one channel. `idempotency_key` is stable across retries of the same job."""

    idempotency_key: str
    text: str
    title: str = ""
    body_markdown: str = ""
    link_url: str = ""
    tags: list[str] = field(default_factory=list)
    media_urls: list[str] = field(default_factory=list)
    canonical_url: str = ""
    extra: dict[str, Any] = field(default_factory=dict)
    # Set when reconciling an unknown outcome: the moment the first request that may have made this
    # post began (the job's first attempt, not only the last), so a lookup by content never takes an
    # older post with the same text for it.
    sent_after: datetime | None = None
    # The texts earlier attempts sent, when they differ from `text` (the post was edited between
    # attempts): a lookup looks for any of them.
    earlier_texts: list[str] = field(default_factory=list)


@dataclass
class PublishedPost:
    """status: published, or awaiting_manual (a person must paste `draft` and report the URL)."""

    status: str
    provider: str
    external_id: str = ""
    url: str = ""
    draft: str = ""
    raw: dict[str, Any] = field(default_factory=dict)


@dataclass
class PostMetrics:
    external_id: str
    impressions: int | None = None
    clicks: int | None = None
    reactions: int | None = None
    comments: int | None = None
    raw: dict[str, Any] = field(default_factory=dict)


@dataclass
class TextRequest:
    """One prompt. With `schema` (a JSON Schema object) the answer must be JSON that follows it, and
    adapters ask for structured output where the API offers it; `GeneratedText.data` then holds it."""

    prompt: str
    system: str = ""
    schema: dict[str, Any] | None = None
    schema_name: str = "answer"  # OpenAI: a-z, A-Z, 0-9, _ and -, at most 64
    max_tokens: int = 1024


@dataclass
class GeneratedText:
    provider: str
    model: str
    text: str
    data: dict[str, Any] | None = None
    input_tokens: int = 0
    output_tokens: int = 0
    cost_estimate: Decimal | None = None  # from the account's prices; None when it sets none
    raw: dict[str, Any] = field(default_factory=dict)


@dataclass
class PaymentCustomer:
    """A customer of the payment provider; `email` is "" when it holds none."""

    id: str
    email: str = ""
    name: str = ""
    created: datetime | None = None


@dataclass
class PaymentCharge:
    """One charge, amounts in the currency's smallest unit as the provider gives them.

    succeeded: the money was taken (a failed or pending charge is listed too, and is no revenue).
    payment_intent, invoice: what the payment provider's webhooks name the same payment by."""

    id: str
    amount: int
    currency: str
    succeeded: bool
    amount_refunded: int = 0
    customer_id: str = ""
    email: str = ""
    name: str = ""
    payment_intent: str = ""
    invoice: str = ""
    created: datetime | None = None


@dataclass
class PaymentPage:
    """One page of a list; `cursor` is the last item's id, to ask for the page after it."""

    items: list
    has_more: bool
    cursor: str = ""


@dataclass
class RepositoryFigures:
    """A repository's counters as the code host shows them. watchers: people subscribed to its
    notifications (GitHub's `subscribers_count`; its `watchers_count` repeats the stars)."""

    full_name: str
    stars: int
    forks: int
    watchers: int
    open_issues: int


@dataclass
class RepositoryRelease:
    tag: str
    name: str = ""
    url: str = ""
    published_at: datetime | None = None


@dataclass
class RepositoryTraffic:
    """Views or clones over the code host's window (GitHub: the last 14 days)."""

    count: int
    uniques: int


@dataclass
class StargazerPage:
    """One page of a repository's stargazers (logins); `next_url` is the code host's link to the next page."""

    logins: list[str]
    next_url: str = ""


@dataclass
class Conditional:
    """The answer to a conditional read: `not_modified` when the code host said nothing changed since
    `etag` (GitHub answers 304, which costs no quota); otherwise `value` and the new `etag`."""

    etag: str
    not_modified: bool = False
    value: Any = None


@dataclass
class Place:
    """Where a city name was found: coordinates, and the name and ISO country the provider gives."""

    name: str
    country: str
    lat: float
    lon: float


@dataclass
class WeatherReading:
    """Weather at one moment (observed now, or a forecast slot): °C and the provider's condition group
    (OpenWeather's `main`: Rain, Drizzle, Thunderstorm, Snow, Clear, Clouds...)."""

    at: datetime
    temperature_c: float
    condition: str
    description: str = ""


@dataclass
class WeatherReport:
    """Now and the coming days; utc_offset_seconds places "today" in the city's own day."""

    current: WeatherReading
    forecast: list[WeatherReading]
    utc_offset_seconds: int = 0


@dataclass
class OutgoingSms:
    """One text message to one phone number (E.164). status_callback: where the provider reports the
    message's delivery; "" for none."""

    to: str
    body: str
    status_callback: str = ""


@dataclass
class SmsReceipt:
    """The provider took the message (`status` is its own word: queued, accepted, sent, delivered...).
    segments: what it counted and bills, 0 when it does not say yet."""

    message_id: str
    provider: str
    status: str
    segments: int = 0
    raw: dict[str, Any] = field(default_factory=dict)


@dataclass
class ProbeResult:
    ok: bool
    detail: str
    latency_ms: float


# ---- adapter base classes -------------------------------------------------------------------


class Adapter:
    """One provider's way of doing one capability.

    key: stable identifier stored on ProviderAccount.adapter ("apollo", "smtp", "mastodon").
    parameters: names of plain settings (ProviderAccount.settings); secret_parameters: names of
    credentials (ProviderAccount.credentials, encrypted at rest, never shown again).
    channel: for channel posting, the channel kind this adapter posts to ("mastodon", "devto").
    """

    key: ClassVar[str]
    label: ClassVar[str]
    capability: ClassVar[str]
    parameters: ClassVar[tuple[str, ...]] = ()
    secret_parameters: ClassVar[tuple[str, ...]] = ()
    default_base_url: ClassVar[str] = ""
    channel: ClassVar[str] = ""
    # True when calling it does nothing real (the no-op fallback, manual publishing).
    is_fallback: ClassVar[bool] = False
    # What it is to whoever asks "can a real provider do this": real, placeholder (no-op) or manual.
    kind: ClassVar[str] = "real"
    # False when its cheapest call would do real work (post to a channel, deliver an event): it is never
    # probed, and only real calls tell its health.
    probeable: ClassVar[bool] = True
    # The provider's documented request rate, used when the account sets none (requests, seconds).
    default_rate_limit: ClassVar[tuple[int, float] | None] = None
    # What whoever chooses it should know it cannot do, said on its form and in the chooser ("" for
    # nothing): a limit of the provider's API, with the better choice when there is one.
    limits: ClassVar[str] = ""
    # Pages are given the class itself: templates read its attributes instead of calling it.
    do_not_call_in_templates: ClassVar[bool] = True
    # Credentials the provider signs its webhooks with, the current one first: while a secret is rolled
    # over the account holds both, and an event signed with either is accepted.
    webhook_secret_parameters: ClassVar[tuple[str, ...]] = ()

    def __init__(self, *, name: str, base_url: str = "", timeout: float = 10.0,
                 settings: dict | None = None, credentials: dict | None = None):
        self.name = name
        self.base_url = (base_url or self.default_base_url).rstrip("/")
        self.timeout = timeout
        self.settings = settings or {}
        self.credentials = credentials or {}

    def probe(self) -> ProbeResult:
        """The provider's cheapest authenticated call; raises a GatewayError when it fails."""
        raise NotImplementedError

    def webhook_secrets(self) -> list[str]:
        """The webhook signing secrets set on the account; no request is made."""
        return [secret for secret in (str(self.credentials.get(name) or "").strip()
                                      for name in self.webhook_secret_parameters) if secret]


class LeadEnrichmentAdapter(Adapter):
    capability = Capability.LEAD_ENRICHMENT
    max_batch: ClassVar[int] = 1

    def enrich(self, people: list[PersonQuery]) -> list[EnrichedPerson | None]:
        """One result per query, in order; None where the provider found nothing."""
        raise NotImplementedError


class EmailVerificationAdapter(Adapter):
    capability = Capability.EMAIL_VERIFICATION
    max_batch: ClassVar[int] = 1

    def verify(self, emails: list[str]) -> list[EmailVerdict]:
        raise NotImplementedError


class EmailSession:
    """An open connection to a sending provider, reused for a batch; close() ends it."""

    provider: str

    def send(self, message: OutgoingEmail) -> SendReceipt:
        raise NotImplementedError

    def send_steps(self, message: OutgoingEmail) -> SendSteps[SendReceipt]:
        """send() in steps (gateways.send_steps); a session that can overlap its waits overrides it."""
        return at_once(self.send, message)

    def close(self) -> None:
        raise NotImplementedError

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class EmailSendingAdapter(Adapter):
    capability = Capability.EMAIL_SENDING

    def open(self) -> EmailSession:
        raise NotImplementedError


class InboxReadingAdapter(Adapter):
    capability = Capability.INBOX_READING

    def fetch_since(self, last_uid: int, *, limit: int = 500, uid_validity: int | None = None
                    ) -> list[InboundMessage]:
        """Messages with a UID above last_uid, oldest first. uid_validity: the mailbox's UIDVALIDITY
        stored with last_uid (None when unknown); when the server's differs, every message is new."""
        raise NotImplementedError


class CrmSyncAdapter(Adapter):
    capability = Capability.CRM_SYNC
    max_batch: ClassVar[int] = 10

    def upsert(self, records: list[SyncRecord]) -> SyncResult:
        raise NotImplementedError


class ChannelPostingAdapter(Adapter):
    capability = Capability.CHANNEL_POSTING
    max_length: ClassVar[int | None] = None
    supports_lookup: ClassVar[bool] = False

    def publish(self, post: ChannelPost) -> PublishedPost:
        raise NotImplementedError

    def lookup(self, post: ChannelPost) -> PublishedPost | None:
        """Find a post made earlier for this idempotency key (reconciling an unknown outcome)."""
        raise NotImplementedError


class MetricsFetchingAdapter(Adapter):
    capability = Capability.METRICS_FETCHING

    def fetch(self, external_ids: list[str]) -> list[PostMetrics]:
        raise NotImplementedError


class TextGenerationAdapter(Adapter):
    capability = Capability.TEXT_GENERATION

    def generate(self, request: TextRequest) -> GeneratedText:
        """Raises ProviderUnavailable when the answer is not the JSON the schema asks for."""
        raise NotImplementedError


class PaymentsAdapter(Adapter):
    capability = Capability.PAYMENTS
    # The largest page the provider serves.
    page_size: ClassVar[int] = 100

    def list_customers(self, *, after: str = "", created_since: datetime | None = None) -> PaymentPage:
        raise NotImplementedError

    def list_charges(self, *, after: str = "", created_since: datetime | None = None) -> PaymentPage:
        raise NotImplementedError


class RepositorySignalsAdapter(Adapter):
    """A code host whose repositories' stars, forks and releases are marketing signals: read on a schedule
    with conditional requests, and pushed by its signed webhooks (webhook_secrets)."""

    capability = Capability.REPOSITORY_SIGNALS

    def repository(self, full_name: str, *, etag: str = "") -> Conditional:
        """Conditional of RepositoryFigures."""
        raise NotImplementedError

    def releases(self, full_name: str, *, etag: str = "") -> Conditional:
        """Conditional of every published release (list[RepositoryRelease]), newest first."""
        raise NotImplementedError

    def traffic(self, full_name: str, kind: str) -> RepositoryTraffic | None:
        """kind: "views" or "clones"; None when the token may not read them (not an error)."""
        raise NotImplementedError

    def stargazers(self, full_name: str, *, page_url: str = "") -> StargazerPage:
        """The first page, or the page at `page_url` (a previous page's next_url)."""
        raise NotImplementedError

    def public_email(self, login: str) -> str:
        """The address the user chose to show publicly; "" when none."""
        raise NotImplementedError


class WeatherAdapter(Adapter):
    capability = Capability.WEATHER

    def geocode(self, city: str, country: str = "") -> Place | None:
        """The city's place, or None when the provider knows no such city."""
        raise NotImplementedError

    def weather(self, lat: float, lon: float) -> WeatherReport:
        raise NotImplementedError


class SmsSendingAdapter(Adapter):
    """Sends text messages. Its webhooks (inbound replies, delivery statuses) are signed with
    webhook_secrets()."""

    capability = Capability.SMS_SENDING
    probeable = True

    def send(self, message: OutgoingSms) -> SmsReceipt:
        """Raises ProviderRejected with details["opted_out"] when the recipient has unsubscribed from
        the sender, and OutcomeUnknown when the request may have been taken."""
        raise NotImplementedError

    def lookup(self, *, to: str, body: str, sent_after: datetime) -> SmsReceipt | None:
        """A message to `to` with this body created since `sent_after` (reconciling an unknown outcome)."""
        raise NotImplementedError


# ---- registry -------------------------------------------------------------------------------
# Filled when the app is ready (gateways.apps imports gateways.adapters, whose modules @register).

_REGISTRY: dict[str, type[Adapter]] = {}


def register(cls: type[Adapter]) -> type[Adapter]:
    if cls.key in _REGISTRY and _REGISTRY[cls.key] is not cls:
        raise ValueError(f"Adapter key {cls.key!r} is registered twice")
    _REGISTRY[cls.key] = cls
    return cls


def adapter_class(key: str) -> type[Adapter]:
    try:
        return _REGISTRY[key]
    except KeyError:
        raise LookupError(f"No adapter {key!r}; known: {', '.join(sorted(_REGISTRY))}")


def adapters_for(capability: str) -> list[type[Adapter]]:
    return [cls for cls in _REGISTRY.values() if cls.capability == capability]
