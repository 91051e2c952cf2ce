"""What domain apps ask of providers, one function per capability operation."""

from collections.abc import Callable, Iterable, Iterator, Sequence

from django.db import transaction

from aicmo_site.errors import DomainError
from gateways import health
from gateways.capabilities import (
    Capability,
    ChannelPost,
    EmailVerdict,
    InboundMessage,
    MetricsFetchingAdapter,
    PersonQuery,
    PostMetrics,
    PublishedPost,
    SyncRecord,
    SyncResult,
)
from gateways.chain import ChainResult, account_run, account_run_in_turn, chain_run, pace
from gateways.errors import GatewayError, Withdrawn
from gateways.models import InboxCursor, ProviderAccount


def _paced_batches(items: Sequence, size: int) -> Iterator[list]:
    """Batches of the adapter's size; every request after the first waits for the account's rate limit."""
    size = max(int(size or 1), 1)
    for start in range(0, len(items), size):
        if start:
            pace()
        yield list(items[start:start + size])


def enrich_people(people: list[PersonQuery]) -> ChainResult:
    """value: one EnrichedPerson or None per query, in order."""
    if not people:
        return ChainResult(value=[])
    return chain_run(
        capability=Capability.LEAD_ENRICHMENT,
        operation=lambda adapter: [found for batch in _paced_batches(people, adapter.max_batch)
                                   for found in adapter.enrich(batch)],
    )


def verify_emails(emails: list[str]) -> ChainResult:
    """value: one EmailVerdict per address, in order."""
    if not emails:
        return ChainResult(value=[])
    result: ChainResult = chain_run(
        capability=Capability.EMAIL_VERIFICATION,
        operation=lambda adapter: [verdict for batch in _paced_batches(emails, adapter.max_batch)
                                   for verdict in adapter.verify(batch)],
    )
    verdicts: list[EmailVerdict] = result.value or []
    if not result.skipped and len(verdicts) != len(emails):
        raise DomainError(f"{result.provider} returned {len(verdicts)} verdicts for {len(emails)} addresses.",
                          "provider_mismatch")
    return result


def sync_records(records: list[SyncRecord]) -> ChainResult:
    """value: SyncResult totalled over batches of the adapter's documented size. Upserts are
    idempotent, so a failover part-way simply repeats the first batches with the next account."""
    if not records:
        return ChainResult(value=SyncResult(created=0, updated=0))

    def upsert_all(adapter) -> SyncResult:
        total = SyncResult(created=0, updated=0)
        for batch in _paced_batches(records, adapter.max_batch):
            part = adapter.upsert(batch)
            total.created += part.created
            total.updated += part.updated
            total.written += part.written
            total.failed.extend(part.failed)
        return total

    return chain_run(capability=Capability.CRM_SYNC, operation=upsert_all)


def publish_post(*, account_id: int, post: ChannelPost) -> ChainResult:
    """value: PublishedPost (published, or awaiting_manual with a draft to paste)."""
    return account_run(account_id=account_id, capability=Capability.CHANNEL_POSTING,
                       operation=lambda adapter: adapter.publish(post))


def publish_posts(*, account_id: int, posts: list[ChannelPost],
                  session: "PostingSession | None" = None) -> list[ChainResult | GatewayError]:
    """Several posts through one channel account, one after the other, with one read of the account
    and one take of rate-limit tokens for all; one ChainResult or GatewayError per post, in order
    (see account_run_in_turn for the posts not sent after a failure)."""
    return list(publish_posts_in_turn(account_id=account_id, posts=posts, session=session))


def publish_posts_in_turn(*, account_id: int, posts: list[ChannelPost], session: "PostingSession | None" = None,
                          before_send: Callable[[int], bool] | None = None) -> Iterator[ChainResult | GatewayError]:
    """publish_posts, yielding each post's outcome as soon as it is known (the next post goes out
    when the caller asks for its outcome).

    `before_send(i)` is called once the account has admitted post i (breaker, rate limit) and right
    before its request: the caller marks the post as possibly sent there, in its own commit. When
    it answers False (the caller no longer holds the work), the post is withdrawn unsent. The
    adapter opens the post's connection before that (prepare_publish, where it can), so a
    connection that cannot be made fails the post before the mark."""
    def publish(adapter, index: int, post: ChannelPost):
        prepare = getattr(adapter, "prepare_publish", None)
        if before_send is not None and prepare is not None:
            prepare(post)
        if before_send is not None and not before_send(index):
            raise Withdrawn("withdrawn before its request: the post is no longer this caller's to make")
        return adapter.publish(post)

    return account_run_in_turn(
        account_id=account_id, capability=Capability.CHANNEL_POSTING,
        operations=[lambda adapter, index=index, post=post: publish(adapter, index, post)
                    for index, post in enumerate(posts)],
        deferred=session.health if session is not None else None,
        account=session.account(account_id) if session is not None else None)


class PostingSession:
    """Many posts in a row (a dispatcher's run), from any number of threads: each account's
    successes reach its health row once a second, and always before a failure, rather than with
    one UPDATE per post. close() writes what is left."""

    def __init__(self):
        self.health = health.DeferredHealth()
        self._accounts: dict[int, ProviderAccount] = {}

    def read_accounts(self, account_ids: Iterable[int]) -> None:
        """Read the accounts the next posts go to, with their health rows, in one query; the posts
        use these rows (their breaker and bucket) instead of reading their account one by one."""
        self._accounts = {account.pk: account for account in
                          ProviderAccount.objects.select_related("health").filter(pk__in=set(account_ids))}

    def account(self, account_id: int) -> ProviderAccount | None:
        return self._accounts.get(account_id)

    def __enter__(self) -> "PostingSession":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self.health.flush()


def open_posting_session() -> PostingSession:
    return PostingSession()


def lookup_post(*, account_id: int, post: ChannelPost) -> PublishedPost | None:
    """The post made earlier for this idempotency key, or None when the channel has none.
    Refused for channels that cannot look up posts: None would wrongly mean "safe to post again"."""
    account = _account(account_id)
    if not getattr(account.adapter_class, "supports_lookup", False):
        raise DomainError(f"{account.name} cannot look up earlier posts; check the channel by hand.",
                          "lookup_unsupported")
    return account_run(account_id=account_id, capability=Capability.CHANNEL_POSTING,
                       operation=lambda adapter: adapter.lookup(post)).value


def fetch_post_metrics(*, account_id: int, external_ids: list[str]) -> list[PostMetrics]:
    """Statistics of posts made through a channel account: from the account itself when its
    adapter offers them, else from a metrics account of the same channel; [] when none does."""
    if not external_ids:
        return []
    account = _account(account_id)
    if not issubclass(account.adapter_class, MetricsFetchingAdapter):
        account = (
            ProviderAccount.objects.filter(capability=Capability.METRICS_FETCHING, enabled=True)
            .filter(channel=account.channel)
            .exclude(channel="")
            .order_by("priority", "name")
            .first()
        )
        if account is None:
            return []
    result = account_run(account_id=account.pk, operation=lambda adapter: adapter.fetch(external_ids))
    return [] if result.skipped else list(result.value)


def read_inbox(account_id: int, *, limit: int = 500) -> list[InboundMessage]:
    """Messages above the cursor, oldest first. The cursor does not move here: process each
    message in order, then call inbox_cursor_advance with its UID, so a crash re-reads at most
    the message being processed (callers also key their work on message_id) and loses none.

    When the server renumbered the mailbox (its UIDVALIDITY changed), the stored UID means nothing:
    the cursor starts again from zero and every message comes back, for callers to skip by message_id."""
    cursor, _ = InboxCursor.objects.get_or_create(account_id=_account(account_id).pk)
    result = account_run(account_id=account_id, capability=Capability.INBOX_READING,
                         operation=lambda adapter: adapter.fetch_since(cursor.last_uid, limit=limit,
                                                                       uid_validity=cursor.uid_validity))
    if result.skipped:
        return []
    messages = sorted(result.value, key=lambda m: m.uid)
    validity = next((m.uid_validity for m in messages if m.uid_validity), None)
    if validity and validity != cursor.uid_validity:
        renumbered = cursor.uid_validity is not None
        InboxCursor.objects.filter(pk=cursor.pk, uid_validity=cursor.uid_validity).update(
            uid_validity=validity, **({"last_uid": 0} if renumbered else {}))
        if renumbered:
            return messages
    return [m for m in messages if m.uid > cursor.last_uid]


@transaction.atomic
def inbox_cursor_advance(account_id: int, uid: int) -> None:
    """Mark the mailbox processed up to `uid`; never moves backwards."""
    InboxCursor.objects.get_or_create(account_id=account_id)
    InboxCursor.objects.filter(account_id=account_id, last_uid__lt=uid).update(last_uid=uid)


def _account(account_id: int) -> ProviderAccount:
    try:
        return ProviderAccount.objects.get(pk=account_id)
    except ProviderAccount.DoesNotExist:
        raise DomainError(f"Provider account {account_id} does not exist.", "not_found", status=404)
