"""Usage records and performance figures, written by publishing and analytics."""

from datetime import date

from django.db import transaction
from django.utils import timezone

from aicmo_site.errors import DomainError
from media.models import Asset, AssetPerformance, AssetUsage

_FIGURES = ("impressions", "clicks", "conversions")


@transaction.atomic
def asset_usage_record(
    *, asset: Asset, used_in_kind: str, used_in_id, campaign_id: int | None = None, channel: str = ""
) -> AssetUsage:
    """Count one more use of the asset in a place (content version, campaign ...) on a channel."""
    now = timezone.now()
    usage, _ = AssetUsage.objects.select_for_update().get_or_create(
        asset=asset, used_in_kind=used_in_kind, used_in_id=str(used_in_id), channel=channel,
        defaults={"first_used_at": now, "last_used_at": now, "campaign_id": campaign_id},
    )
    usage.count += 1
    usage.last_used_at = now
    if campaign_id is not None:
        usage.campaign_id = campaign_id
    usage.full_clean()
    usage.save()
    return usage


@transaction.atomic
def asset_usage_release(*, asset: Asset, used_in_kind: str, used_in_id, channel: str = "") -> AssetUsage | None:
    """One use ended (content unscheduled, version replaced); the history row stays at 0."""
    usage = AssetUsage.objects.select_for_update().filter(
        asset=asset, used_in_kind=used_in_kind, used_in_id=str(used_in_id), channel=channel
    ).first()
    if usage is None or usage.count == 0:
        return usage
    usage.count -= 1
    usage.save(update_fields=["count"])
    return usage


def _performance_key(row: dict) -> tuple:
    return (row["asset_id"], row["channel"], row.get("campaign_id"), row["day"])


@transaction.atomic
def asset_performance_upsert(*, rows, replace: bool = False) -> dict[str, int]:
    """Set the figures of (asset, channel, campaign, day) rows; sending the same rows again
    changes nothing. Rows: dicts with asset_id (or asset), channel, campaign_id, day and figures.

    replace=True: the rows are every figure there is (a recomputation from the source), so stored
    rows not among them are deleted (an asset taken off a post keeps no figures from it)."""
    incoming: dict[tuple, dict] = {}
    for row in rows:
        row = {**row}
        if "asset" in row:
            row["asset_id"] = row.pop("asset").pk
        if isinstance(row.get("day"), str):
            row["day"] = date.fromisoformat(row["day"])
        for field in _FIGURES:
            value = row.get(field, 0)
            if not isinstance(value, int) or value < 0:
                raise DomainError(f"{field} must be a whole number ≥ 0; got {value!r}.", "invalid_figure")
        if not row.get("channel"):
            raise DomainError("Each performance row needs a channel.", "channel_required")
        incoming[_performance_key(row)] = row
    pruned = {}
    if replace:
        stored = AssetPerformance.objects.values_list("pk", "asset_id", "channel", "campaign_id", "day")
        stale = [pk for pk, *key in stored if tuple(key) not in incoming]
        pruned = {"deleted": AssetPerformance.objects.filter(pk__in=stale).delete()[0]}
    if not incoming:
        return {"created": 0, "updated": 0, **pruned}
    asset_ids = {key[0] for key in incoming}
    found = set(Asset.objects.filter(pk__in=asset_ids).values_list("pk", flat=True))
    if found != asset_ids:
        raise DomainError("Some rows name assets that do not exist.", "unknown_asset",
                          {"asset_ids": sorted(asset_ids - found)})
    existing = AssetPerformance.objects.filter(
        asset_id__in=asset_ids, day__in={key[3] for key in incoming}, channel__in={key[1] for key in incoming}
    )
    by_key = {(p.asset_id, p.channel, p.campaign_id, p.day): p for p in existing}
    to_update, to_create = [], []
    for key, row in incoming.items():
        record = by_key.get(key)
        if record is None:
            record = AssetPerformance(asset_id=key[0], channel=key[1], campaign_id=key[2], day=key[3])
            to_create.append(record)
        else:
            to_update.append(record)
        for field in _FIGURES:
            setattr(record, field, row.get(field, 0))
    AssetPerformance.objects.bulk_create(to_create)
    AssetPerformance.objects.bulk_update(to_update, list(_FIGURES))
    return {"created": len(to_create), "updated": len(to_update), **pruned}
