"""How publishing reaches channels: only through gateways' public services (a channel account each)."""

from collections.abc import Callable, Iterator

from gateways.capabilities import ChannelPost, PostMetrics, PublishedPost
from gateways.errors import GatewayError, ProviderUnavailable
from gateways.models import ProviderAccount
from gateways.services import (
    ChainResult,
    PostingSession,
    fetch_post_metrics,
    lookup_post,
    publish_posts_in_turn,
)

# Adapters whose channel remembers the Idempotency-Key (Mastodon: one hour), so a retry after an
# unknown outcome cannot make a second post. Adapters may declare it themselves.
IDEMPOTENT_ADAPTERS = {"mastodon"}


def _adapter_class(account_id: int):
    return ProviderAccount.objects.get(pk=account_id).adapter_class


def _published(result: ChainResult) -> PublishedPost:
    if result.skipped or result.value is None:
        raise ProviderUnavailable(result.reason or "the channel account did nothing", provider=result.provider)
    return result.value


def publish_in_turn(*, account_id: int, posts: list[ChannelPost], session: PostingSession | None = None,
                    before_send: Callable[[int], bool] | None = None) -> Iterator[PublishedPost | GatewayError]:
    """Posts to one account in a row: each one's PublishedPost, or the GatewayError it met, as soon as
    it is known (see gateways' publish_posts_in_turn for `before_send`)."""
    for result in publish_posts_in_turn(account_id=account_id, posts=posts, session=session,
                                        before_send=before_send):
        try:
            yield result if isinstance(result, GatewayError) else _published(result)
        except ProviderUnavailable as exc:
            yield exc


def retry_is_safe(*, account_id: int) -> bool:
    cls = _adapter_class(account_id)
    return bool(getattr(cls, "honours_idempotency_key", cls.key in IDEMPOTENT_ADAPTERS))


def can_lookup(*, account_id: int) -> bool:
    return bool(getattr(_adapter_class(account_id), "supports_lookup", False))


def lookup(*, account_id: int, post: ChannelPost) -> PublishedPost | None:
    return lookup_post(account_id=account_id, post=post)


def fetch_metrics(*, account_id: int, external_ids: list[str]) -> list[PostMetrics]:
    return fetch_post_metrics(account_id=account_id, external_ids=external_ids)
