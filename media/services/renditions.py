"""Renditions: made outside any transaction (CPU-bound), recorded in a short one."""

import io
import logging

from django.core.files.base import ContentFile
from django.db import transaction
from django.urls import reverse

from aicmo_site.errors import DomainError
from aicmo_site.models import BackgroundRun, RunKind
from aicmo_site.runs import RunFailed, run_enqueue
from media.choices import RenditionFormatChoices
from media.cleaning import MetadataNotRemovable, can_clean, cleaned_copy
from media.models import Asset, Rendition
from media.renditions import (
    PUBLISH,
    Output,
    Target,
    aspect_fitted_size,
    aspect_preset,
    channel_copy,
    plan_renditions,
    render,
)

logger = logging.getLogger(__name__)

_RECORDED = ("width", "height", "size_bytes", "file", "source_key")
_SOURCE_FORMATS = {"image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WEBP", "image/gif": "GIF"}


def renditions_enqueue(*, asset: Asset, by=None) -> BackgroundRun:
    """The renditions of an upload or a new focal point, made by a worker once the asset is committed;
    the run shows on the "Background work" page and links to the asset."""
    return run_enqueue(kind=RunKind.RENDITIONS, task="media.tasks.asset_renditions_run", by=by,
                       label=f"Renditions of {asset.name}", link=reverse("media:asset-detail", args=[asset.pk]),
                       total=len(renditions_wanted(asset)), task_kwargs={"asset_id": asset.pk})


def asset_renditions_work(*, asset_id: int) -> dict:
    """The work of a renditions run; its result says how many were made (none when all were current)."""
    try:
        return {"renditions_made": asset_renditions_generate(asset_id=asset_id)}
    except MetadataNotRemovable as error:
        # Retrying cannot help; publishing the asset is refused with the same reason (asset_public_url).
        raise RunFailed(f"No metadata-free copy could be made, so this file cannot be published: {error}") from error


def source_key(asset: Asset) -> str:
    return f"{asset.sha256[:16]}:{asset.focal_x:.4f}:{asset.focal_y:.4f}"


def rendition_targets(asset: Asset) -> list:
    """The renditions an image should have now (none for other kinds or an unknown format)."""
    source_format = _SOURCE_FORMATS.get(asset.mime_type)
    if not asset.is_image or source_format is None or not asset.width or not asset.height:
        return []
    return plan_renditions(source_format=source_format, width=asset.width, height=asset.height)


def publish_copy_targets(asset: Asset) -> list:
    """A video, audio or PDF upload gets one rendition: its metadata-free publish copy, same format."""
    extension = asset.file.name.rsplit(".", 1)[-1].lower()
    if asset.is_image or not can_clean(extension):
        return []
    return [Target(PUBLISH, extension, asset.width or 0, asset.height or 0)]


def renditions_wanted(asset: Asset) -> list:
    """What a worker makes for an upload: an image's renditions, another file's metadata-free copy."""
    return rendition_targets(asset) if asset.is_image else publish_copy_targets(asset)


def asset_renditions_generate(*, asset_id: int, force: bool = False) -> int:
    """Make the renditions an asset lacks or that an edit outdated; returns how many were written.
    Running it again with nothing changed writes nothing. MetadataNotRemovable when a video, audio
    or PDF file cannot be copied without its metadata."""
    asset = Asset.objects.filter(pk=asset_id).first()
    if asset is None:
        return 0
    key = source_key(asset)
    targets = renditions_wanted(asset)
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
    # An image is read once for both (a second open was a second request to a bucket); another kind of
    # file, perhaps a long video, is streamed from its own open.
    content = _read_all(asset) if asset.is_image and todo else None
    for batch in ([t for t in todo if t.preset == "thumbnail"], [t for t in todo if t.preset != "thumbnail"]):
        if not batch:
            continue
        if content is not None:
            outputs = render(io.BytesIO(content), batch, focal_x=asset.focal_x, focal_y=asset.focal_y)
        else:
            with asset.file.open("rb") as source:
                outputs = [Output(target, cleaned_copy(source, target.format)) for target in batch]
        _record(asset, outputs, existing, key)
    if stale:
        Rendition.objects.filter(pk__in=[rendition.pk for rendition in stale]).delete()
        for rendition in stale:
            storage.delete(rendition.file.name)
    return len(todo)


def _read_all(asset: Asset) -> bytes:
    with asset.file.open("rb") as source:
        return source.read()


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
    # One upsert: two runs for one asset (upload and a focal-point change) may overlap, and a row each
    # (update_or_create) was two statements per rendition.
    with transaction.atomic():
        Rendition.objects.bulk_create(
            [Rendition(asset=asset, preset=rendition.preset, format=rendition.format,
                       **{field: getattr(rendition, field) for field in _RECORDED}) for rendition in rows],
            update_conflicts=True, unique_fields=["asset", "preset", "format"],
            update_fields=[*_RECORDED, "generated_at"],
        )


def asset_public_url(*, asset: Asset, max_bytes: int | None = None, max_pixels: int | None = None,
                     aspect: tuple[float, float] | None = None) -> str:
    """The URL (path) to give a channel or a public page for this asset: its "publish" rendition, made
    now if the worker has not made it yet, never the original upload with its metadata (an image's
    EXIF and XMP, a video's location, an MP3's ID3 tags, a PDF's author and XMP). DomainError when no
    clean copy can be made: the asset is then not published.

    `max_bytes`, `max_pixels`: a channel's limits. An image whose publish copy is over them is given as the
    largest smaller copy within them (renditions.channel_copy); DomainError when even the smallest is over.

    `aspect`: the narrowest and widest shapes (width / height) the channel takes. A still image outside them
    is given as a copy cropped to the nearest accepted shape around its focal point (the centre unless one
    was set), made now and kept as a rendition; an animation is not cropped."""
    if not (rendition_targets(asset) or publish_copy_targets(asset)):
        raise DomainError(f"“{asset.name}” cannot be published: no metadata-free copy is made of this type.",
                          "no_publish_copy")
    key = source_key(asset)
    publish = asset.renditions.filter(preset=PUBLISH).first()
    if publish is None or publish.source_key != key or not publish.file.storage.exists(publish.file.name):
        try:
            asset_renditions_generate(asset_id=asset.pk)
        except MetadataNotRemovable as error:
            raise DomainError(f"“{asset.name}” is not published: its metadata could not be removed ({error}).",
                              "metadata_not_removable") from error
        publish = asset.renditions.get(preset=PUBLISH)
    if not asset.is_image or (max_bytes is None and max_pixels is None and aspect is None):
        return publish.url
    renditions = [rendition for rendition in asset.renditions.all() if rendition.source_key == key]
    copy = channel_copy(renditions, max_bytes=max_bytes, max_pixels=max_pixels)
    if copy is None:
        raise DomainError(f"“{asset.name}” is too big for this channel, even in its smallest copy.",
                          "too_big_for_channel")
    size = aspect_fitted_size(copy.width, copy.height, narrowest=aspect[0], widest=aspect[1]) if aspect else None
    if size is None or copy.format == RenditionFormatChoices.GIF:
        return copy.url
    return _cropped_copy(asset, renditions, copy.format, size, aspect, key, max_bytes).url


def _cropped_copy(asset: Asset, renditions, fmt: str, size: tuple[int, int], aspect: tuple[float, float],
                  key: str, max_bytes: int | None) -> Rendition:
    """The copy cropped into the channel's shapes, made from the upload once per source and size."""
    preset = aspect_preset(*aspect)
    current = next((r for r in renditions if r.preset == preset and r.format == fmt), None)
    if current is not None and (current.width, current.height) == size and current.file.storage.exists(
            current.file.name):
        return current
    with asset.file.open("rb") as source:
        outputs = render(source, [Target(preset, fmt, *size, crop=True)], focal_x=asset.focal_x,
                         focal_y=asset.focal_y)
    if max_bytes is not None and len(outputs[0].content) > max_bytes:
        raise DomainError(f"“{asset.name}” cropped to this channel's shape is still too big for it.",
                          "too_big_for_channel")
    _record(asset, outputs, {(r.preset, r.format): r for r in renditions}, key)
    return asset.renditions.get(preset=preset, format=fmt)
