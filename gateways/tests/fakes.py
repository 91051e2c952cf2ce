"""Small test-only adapters whose behaviour each test scripts, registered under test_* keys."""

from collections import deque

from gateways.capabilities import (
    ChannelPost,
    ChannelPostingAdapter,
    CrmSyncAdapter,
    EmailSendingAdapter,
    EmailSession,
    EmailVerdict,
    EmailVerificationAdapter,
    EnrichedPerson,
    InboundMessage,
    InboxReadingAdapter,
    LeadEnrichmentAdapter,
    MetricsFetchingAdapter,
    OutgoingEmail,
    PersonQuery,
    PostMetrics,
    ProbeResult,
    PublishedPost,
    SendReceipt,
    SyncRecord,
    SyncResult,
    register,
)

# What each fake provider will do next, keyed by account name: an exception to raise, or None to succeed.
SCRIPT: dict[str, deque] = {}
# Every call a fake provider received: (account name, operation, argument).
CALLS: list[tuple[str, str, object]] = []


def reset() -> None:
    SCRIPT.clear()
    CALLS.clear()


def script(name: str, *outcomes) -> None:
    SCRIPT.setdefault(name, deque()).extend(outcomes)


def _next(name: str, operation: str, argument) -> None:
    CALLS.append((name, operation, argument))
    queue = SCRIPT.get(name)
    outcome = queue.popleft() if queue else None
    if outcome is not None:
        raise outcome


class _Probing:
    def probe(self) -> ProbeResult:
        _next(self.name, "probe", None)
        return ProbeResult(ok=True, detail=f"{self.name} answers", latency_ms=1.0)


@register
class FakeEnrichmentAdapter(_Probing, LeadEnrichmentAdapter):
    key = "test_enrichment"
    label = "Test enrichment"
    parameters = ("region",)
    secret_parameters = ("api_key",)
    max_batch = 2

    def enrich(self, people: list[PersonQuery]) -> list[EnrichedPerson | None]:
        _next(self.name, "enrich", [p.ref for p in people])
        return [EnrichedPerson(ref=p.ref, provider=self.name, fields={"job_title": "CEO"}, raw={}) for p in people]


@register
class FakeVerificationAdapter(_Probing, EmailVerificationAdapter):
    key = "test_verification"
    label = "Test verification"
    secret_parameters = ("api_key",)

    def verify(self, emails: list[str]) -> list[EmailVerdict]:
        _next(self.name, "verify", list(emails))
        return [EmailVerdict(email=e, status="valid", provider=self.name) for e in emails]


class FakeEmailSession(EmailSession):
    def __init__(self, name: str):
        self.provider = name

    def send(self, message: OutgoingEmail) -> SendReceipt:
        _next(self.provider, "send", message.to)
        return SendReceipt(message_id=message.message_id or "<generated@test>", provider=self.provider,
                           response="250 2.0.0 Ok: queued")

    def close(self) -> None:
        CALLS.append((self.provider, "close", None))


@register
class FakeSendingAdapter(_Probing, EmailSendingAdapter):
    key = "test_sending"
    label = "Test sending"
    secret_parameters = ("password",)

    def open(self) -> EmailSession:
        _next(self.name, "open", None)
        return FakeEmailSession(self.name)


@register
class FakeInboxAdapter(_Probing, InboxReadingAdapter):
    key = "test_inbox"
    label = "Test inbox"
    MAILBOX: list[InboundMessage] = []

    VALIDITY = 0

    def fetch_since(self, last_uid: int, *, limit: int = 500, uid_validity: int | None = None
                    ) -> list[InboundMessage]:
        _next(self.name, "fetch_since", last_uid)
        if uid_validity is not None and uid_validity != self.VALIDITY:
            last_uid = 0
        return [m for m in self.MAILBOX if m.uid > last_uid][:limit]


@register
class FakeSyncAdapter(_Probing, CrmSyncAdapter):
    key = "test_sync"
    label = "Test sync"
    max_batch = 10

    def upsert(self, records: list[SyncRecord]) -> SyncResult:
        _next(self.name, "upsert", [r.key for r in records])
        return SyncResult(created=len(records), updated=0, written=len(records))


@register
class FakeChannelAdapter(_Probing, ChannelPostingAdapter, MetricsFetchingAdapter):
    key = "test_channel"
    label = "Test channel"
    capability = ChannelPostingAdapter.capability
    channel = "testchannel"
    supports_lookup = True
    POSTED: dict[str, PublishedPost] = {}

    def publish(self, post: ChannelPost) -> PublishedPost:
        _next(self.name, "publish", post.idempotency_key)
        published = PublishedPost(status="published", provider=self.name, external_id=f"ext-{post.idempotency_key}",
                                  url=f"https://social.example/{post.idempotency_key}")
        self.POSTED[post.idempotency_key] = published
        return published

    def lookup(self, post: ChannelPost) -> PublishedPost | None:
        _next(self.name, "lookup", post.idempotency_key)
        return self.POSTED.get(post.idempotency_key)

    def fetch(self, external_ids: list[str]) -> list[PostMetrics]:
        _next(self.name, "fetch", list(external_ids))
        return [PostMetrics(external_id=i, impressions=10, clicks=1) for i in external_ids]
