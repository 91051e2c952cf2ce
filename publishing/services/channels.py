"""Channels: where posts go, shaped by the formatter of their kind."""

from django.db import transaction

from aicmo_site.errors import DomainError
from publishing.formatters import registered
from publishing.models import Channel

CHANNEL_FIELDS = ("name", "slug", "kind", "active", "provider_account")


def _check(channel: Channel) -> None:
    if channel.kind not in registered():
        raise DomainError(f"Unknown channel kind {channel.kind!r}.", code="unknown_channel_kind",
                          extra={"known": sorted(registered())})
    channel.full_clean()


@transaction.atomic
def channel_create(**fields) -> Channel:
    unknown = set(fields) - set(CHANNEL_FIELDS)
    if unknown:
        raise DomainError(f"Unknown fields: {', '.join(sorted(unknown))}.", code="unknown_fields")
    channel = Channel(**fields)
    _check(channel)
    channel.save()
    return channel


@transaction.atomic
def channel_update(*, channel: Channel, **fields) -> Channel:
    unknown = set(fields) - set(CHANNEL_FIELDS)
    if unknown:
        raise DomainError(f"Unknown fields: {', '.join(sorted(unknown))}.", code="unknown_fields")
    channel = Channel.objects.select_for_update().get(pk=channel.pk)
    for name, value in fields.items():
        setattr(channel, name, value)
    _check(channel)
    channel.save()
    return channel
