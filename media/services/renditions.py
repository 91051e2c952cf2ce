"""Renditions: made outside any transaction (CPU-bound), recorded in a short one."""

from django.core.files.base import ContentFile
from django.db import transaction
from django.urls import reverse

from aicmo_site.models import BackgroundRun, RunKind
from aicmo_site.runs import run_enqueue
from media.choices import AssetKindChoices
from media.models import Asset, Rendition
from media.renditions import PUBLISH, plan_renditions, render

_SOURCE_FORMATS = {"image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WEBP", "image/gif": "GIF"}


def renditions_enqueue(*, asset: Asset, by=None) -> BackgroundRun:
    """The renditions of an upload or a new focal point, made by a worker once the asset is committed;
    the run shows on the "Background work" page and links to the asset."""
    return run_enqueue(kind=RunKind.RENDITIONS, task="media.tasks.asset_renditions_run", by=by,
                       label=f"Renditions of {asset.name}", link=reverse("media:asset-detail", args=[asset.pk]),
                       total=len(rendition_targets(asset)), task_kwargs={"asset_id": asset.pk})


def asset_renditions_work(*, asset_id: int) -> dict:
    """The work of a renditions run; its result says how many were made (none when all were current)."""
    return {"renditions_made": asset_renditions_generate(asset_id=asset_id)}


def source_key(asset: Asset) -> str:
    return f"{asset.sha256[:16]}:{asset.focal_x:.4f}:{asset.focal_y:.4f}"


def rendition_targets(asset: Asset) -> list:
    """The renditions an image should have now (none for other kinds or an unknown format)."""
    source_format = _SOURCE_FORMATS.get(asset.mime_type)
    if not asset.is_image or source_format is None or not asset.width or not asset.height:
        return []
    return plan_renditions(source_format=source_format, width=asset.width, height=asset.height)


def asset_renditions_generate(*, asset_id: int, force: bool = False) -> int:
    """Make the renditions an image lacks or that an edit outdated; returns how many were written.
    Running it again with nothing changed writes nothing."""
    asset = Asset.objects.filter(pk=asset_id, kind=AssetKindChoices.IMAGE).first()
    if asset is None:
        return 0
    key = source_key(asset)
    targets = rendition_targets(asset)
    existing = {(r.preset, r.format): r for r in asset.renditions.all()}
    storage = asset.file.storage
    todo = [
        target for target in targets
        if force or (current := existing.get((target.preset, target.format))) is None
        or current.source_key != key or not storage.exists(current.file.name)
    ]
    wanted = {(target.preset, target.format) for target in targets}
    stale = [rendition for pair, rendition in existing.items() if pair not in wanted]
    # The thumbnail goes first, from its own small decode, so the grid shows the upload at once
    # while the larger renditions are still being made.
    for batch in ([t for t in todo if t.preset == "thumbnail"], [t for t in todo if t.preset != "thumbnail"]):
        if batch:
            with asset.file.open("rb") as source:
                outputs = render(source, batch, focal_x=asset.focal_x, focal_y=asset.focal_y)
            _record(asset, outputs, existing, key)
    if stale:
        Rendition.objects.filter(pk__in=[rendition.pk for rendition in stale]).delete()
        for rendition in stale:
            storage.delete(rendition.file.name)
    return len(todo)


def _record(asset: Asset, outputs, existing: dict, key: str) -> None:
    """Write the files first, then the rows in one short transaction: no database lock is held
    while bytes go to storage."""
    storage = Rendition._meta.get_field("file").storage
    rows = []
    for output in outputs:
        target = output.target
        rendition = existing.get((target.preset, target.format)) or Rendition(
            asset=asset, preset=target.preset, format=target.format
        )
        # Same name every time: the old file goes first so the storage keeps the stable URL.
        storage.delete(rendition.stable_path)
        rendition.file.name = storage.save(rendition.stable_path, ContentFile(output.content))
        rendition.width, rendition.height = target.width, target.height
        rendition.size_bytes, rendition.source_key = len(output.content), key
        rendition.full_clean(validate_unique=False)
        rows.append(rendition)
    # update_or_create: two runs for one asset (upload and a focal-point change) may overlap.
    with transaction.atomic():
        for rendition in rows:
            Rendition.objects.update_or_create(
                asset=asset, preset=rendition.preset, format=rendition.format,
                defaults={field: getattr(rendition, field)
                          for field in ("width", "height", "size_bytes", "file", "source_key")},
            )


def asset_public_url(*, asset: Asset) -> str:
    """The URL (path) to give a channel or a public page for this asset: an image's "publish" rendition,
    made now if the worker has not made it yet, never the original upload with its EXIF. Other kinds
    (video, audio, PDF) are published as uploaded."""
    if not rendition_targets(asset):
        return asset.file.url
    key = source_key(asset)
    publish = asset.renditions.filter(preset=PUBLISH).first()
    if publish is None or publish.source_key != key or not publish.file.storage.exists(publish.file.name):
        asset_renditions_generate(asset_id=asset.pk)
        publish = asset.renditions.get(preset=PUBLISH)
    return publish.url
