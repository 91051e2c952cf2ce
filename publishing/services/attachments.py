"""Library assets attached to content and to its channel versions: only what the media library allows
(approved, rights valid), each use counted where the asset's page shows it."""

from media.services import asset_attachable_check, asset_usage_record, asset_usage_release


def media_replace(*, holder, assets, used_in_kind: str, channel: str = "") -> dict | None:
    """Make `holder.media` exactly `assets`; returns the change ({"media": [before ids, after ids]}) for
    the content's trail, or None when nothing changed."""
    before = {asset.pk: asset for asset in holder.media.all()}
    after = {asset.pk: asset for asset in assets}
    added = [asset for pk, asset in after.items() if pk not in before]
    removed = [asset for pk, asset in before.items() if pk not in after]
    if not added and not removed:
        return None
    for asset in added:
        asset_attachable_check(asset=asset)
    holder.media.add(*added)
    holder.media.remove(*removed)
    for asset in added:
        asset_usage_record(asset=asset, used_in_kind=used_in_kind, used_in_id=holder.pk, channel=channel)
    for asset in removed:
        asset_usage_release(asset=asset, used_in_kind=used_in_kind, used_in_id=holder.pk, channel=channel)
    return {"media": [sorted(before), sorted(after)]}
