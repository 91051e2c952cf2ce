"""Renditions: made outside any transaction (CPU-bound), recorded in a short one."""

from django.core.files.base import ContentFile
from django.db import transaction
from django_q.tasks import async_task

from media.choices import AssetKindChoices
from media.models import Asset, Rendition
from media.renditions import plan_renditions, render

_SOURCE_FORMATS = {"image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WEBP", "image/gif": "GIF"}


def renditions_enqueue(*, asset_id: int) -> None:
    transaction.on_commit(lambda: async_task("media.tasks.asset_renditions_generate", asset_id))


def source_key(asset: Asset) -> str:
    return f"{asset.sha256[:16]}:{asset.focal_x:.4f}:{asset.focal_y:.4f}"


def asset_renditions_generate(*, asset_id: int, force: bool = False) -> int:
    """Make the renditions an image lacks or that an edit outdated; returns how many were written.
    Running it again with nothing changed writes nothing."""
    asset = Asset.objects.filter(pk=asset_id, kind=AssetKindChoices.IMAGE).first()
    if asset is None:
        return 0
    key = source_key(asset)
    targets = plan_renditions(source_format=_SOURCE_FORMATS[asset.mime_type], width=asset.width, height=asset.height)
    existing = {(r.preset, r.format): r for r in asset.renditions.all()}
    storage = asset.file.storage
    todo = [
        target for target in targets
        if force or (current := existing.get((target.preset, target.format))) is None
        or current.source_key != key or not storage.exists(current.file.name)
    ]
    wanted = {(target.preset, target.format) for target in targets}
    stale = [rendition for pair, rendition in existing.items() if pair not in wanted]
    if todo:
        with asset.file.open("rb") as source:
            outputs = render(source, todo, focal_x=asset.focal_x, focal_y=asset.focal_y)
        _record(asset, outputs, existing, key)
    if stale:
        Rendition.objects.filter(pk__in=[rendition.pk for rendition in stale]).delete()
        for rendition in stale:
            storage.delete(rendition.file.name)
    return len(todo)


@transaction.atomic
def _record(asset: Asset, outputs, existing: dict, key: str) -> None:
    for output in outputs:
        target = output.target
        rendition = existing.get((target.preset, target.format)) or Rendition(
            asset=asset, preset=target.preset, format=target.format
        )
        rendition.width, rendition.height = target.width, target.height
        rendition.size_bytes, rendition.source_key = len(output.content), key
        # Same name every time: the old file goes first so the storage keeps the stable URL.
        rendition.file.storage.delete(rendition.stable_path)
        rendition.file.save(rendition.stable_path, ContentFile(output.content), save=False)
        rendition.full_clean()
        rendition.save()
