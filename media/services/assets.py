"""Uploads (checked, de-duplicated), metadata, tags, focal point and deletion."""

from dataclasses import dataclass

from django.core.files.base import ContentFile, File
from django.db import IntegrityError, transaction

from aicmo_site.audit import audit_operation
from aicmo_site.errors import ConflictError, DomainError
from media.choices import AssetKindChoices
from media.conf import media_setting
from media.hashing import hamming_distance
from media.models import Asset, AssetTag, AssetUsage, Library
from media.services.renditions import renditions_enqueue, renditions_wanted
from media.validation import check_upload

EDITABLE_FIELDS = ("name", "alt_text", "description", "licence", "usage_rights", "rights_expire_on", "library")


@dataclass
class UploadResult:
    filename: str
    asset: Asset | None = None
    created: bool = False
    notice: str = ""
    error: DomainError | None = None


@transaction.atomic
def library_create(*, name: str, description: str = "", owner=None) -> Library:
    library = Library(name=name.strip(), description=description, owner=owner)
    library.full_clean()
    library.save()
    return library


@transaction.atomic
def library_update(*, library: Library, **fields) -> Library:
    for field in ("name", "description", "owner"):
        if field in fields:
            setattr(library, field, fields[field])
    library.full_clean()
    library.save()
    return library


def _tags(names) -> list[AssetTag]:
    cleaned = sorted({name.strip().lower() for name in names if name and name.strip()})
    existing = {tag.name: tag for tag in AssetTag.objects.filter(name__in=cleaned)}
    missing = [AssetTag(name=name) for name in cleaned if name not in existing]
    for tag in missing:
        tag.full_clean()
    AssetTag.objects.bulk_create(missing, ignore_conflicts=True)
    return list(AssetTag.objects.filter(name__in=cleaned))


def near_duplicates(*, library: Library, perceptual_hash: str, exclude_pk=None) -> list[tuple[Asset, int]]:
    """Images of the library that look alike. Hamming distance has no portable SQL form, so the
    comparison runs over (id, hash) pairs only, never over full rows."""
    if not perceptual_hash:
        return []
    limit = media_setting("MEDIA_NEAR_DUPLICATE_DISTANCE")
    pairs = (
        Asset.objects.filter(library=library, kind=AssetKindChoices.IMAGE).exclude(perceptual_hash="")
        .exclude(pk=exclude_pk).values_list("pk", "perceptual_hash")
    )
    close = {pk: hamming_distance(perceptual_hash, other) for pk, other in pairs}
    close = {pk: distance for pk, distance in close.items() if distance <= limit}
    assets = Asset.objects.in_bulk(list(close))
    return sorted(((assets[pk], distance) for pk, distance in close.items()), key=lambda pair: pair[1])


def _same_bytes_notice(existing: Asset) -> str:
    return (
        f"The same file is already stored as “{existing.name}” (asset {existing.pk}, library "
        f"“{existing.library.name}”); no second copy was made."
    )


@transaction.atomic
def asset_upload(*, library: Library, file, uploaded_by, name: str = "", alt_text: str = "", tags=()):
    """Check and store one file. Returns (asset, created, notice); the same bytes return the asset
    that already holds them, and a look-alike image is named in the notice."""
    checked = check_upload(file)
    filename = getattr(file, "name", "") or ""
    existing = Asset.objects.filter(sha256=checked.sha256).select_related("library").first()
    if existing:
        return existing, False, _same_bytes_notice(existing)
    asset = Asset(
        library=library, name=(name or filename.rsplit("/", 1)[-1] or f"upload.{checked.extension}")[:200],
        kind=checked.kind, mime_type=checked.mime_type, size_bytes=checked.size_bytes, width=checked.width,
        height=checked.height, orientation=checked.orientation, sha256=checked.sha256,
        perceptual_hash=checked.perceptual_hash, alt_text=alt_text, uploaded_by=uploaded_by,
    )
    body = ContentFile(checked.content) if checked.content is not None else File(file)
    asset.file.save(f"upload.{checked.extension}", body, save=False)
    asset.full_clean(validate_unique=False)
    try:
        with transaction.atomic():
            asset.save()
    except IntegrityError:
        # The same bytes were stored by a concurrent upload between the check and the insert.
        asset.file.storage.delete(asset.file.name)
        existing = Asset.objects.select_related("library").get(sha256=checked.sha256)
        return existing, False, _same_bytes_notice(existing)
    if tags:
        asset.tags.set(_tags(tags))
    notice = "Uploaded."
    alike = near_duplicates(library=library, perceptual_hash=asset.perceptual_hash, exclude_pk=asset.pk)
    if alike:
        names = ", ".join(f"“{other.name}” (asset {other.pk}, distance {distance})" for other, distance in alike[:5])
        notice = f"Uploaded; it looks like {names}."
    if renditions_wanted(asset):  # an image's renditions, or another file's metadata-free copy
        renditions_enqueue(asset=asset, by=uploaded_by)
    return asset, True, notice


def asset_upload_batch(*, library: Library, files, uploaded_by) -> list[UploadResult]:
    """Each file on its own: a refused file never stops the others."""
    results = []
    for file in files:
        result = UploadResult(filename=getattr(file, "name", "") or "")
        try:
            result.asset, result.created, result.notice = asset_upload(
                library=library, file=file, uploaded_by=uploaded_by
            )
        except DomainError as error:
            result.error = error
        results.append(result)
    return results


@transaction.atomic
def asset_update(*, asset: Asset, tags=None, **fields) -> Asset:
    unknown = set(fields) - set(EDITABLE_FIELDS)
    if unknown:
        raise DomainError(f"These fields cannot be changed here: {', '.join(sorted(unknown))}.", "not_editable")
    for field, value in fields.items():
        setattr(asset, field, value)
    asset.full_clean(exclude=["file"])
    asset.save()
    if tags is not None:
        asset.tags.set(_tags(tags))
    return asset


@transaction.atomic
def asset_tags_add(*, assets, tags) -> int:
    """Add tags to many assets at once; returns how many assets were tagged."""
    wanted = _tags(tags)
    if not wanted:
        raise DomainError("Name at least one tag.", "tags_required")
    asset_ids = [asset.pk for asset in assets]
    through = Asset.tags.through
    links = [through(asset_id=asset_id, assettag_id=tag.pk) for asset_id in asset_ids for tag in wanted]
    through.objects.bulk_create(links, ignore_conflicts=True)
    audit_operation(model=Asset, action=f"Tagged {', '.join(sorted(tag.name for tag in wanted))}",
                    count=len(asset_ids))
    return len(asset_ids)


@transaction.atomic
def asset_set_focal_point(*, asset: Asset, x: float, y: float, by=None) -> Asset:
    """Move the point channel crops are centred on; the crops are remade at the same URLs."""
    if not (0.0 <= x <= 1.0 and 0.0 <= y <= 1.0):
        raise DomainError("The focal point must lie inside the image (0 to 1 on each axis).", "invalid_focal_point")
    if not asset.is_image:
        raise DomainError("Only images have a focal point.", "not_an_image")
    asset.focal_x, asset.focal_y = x, y
    asset.full_clean(exclude=["file"])
    asset.save(update_fields=["focal_x", "focal_y", "updated_at"])
    renditions_enqueue(asset=asset, by=by)
    return asset


@transaction.atomic
def asset_delete(*, asset: Asset) -> None:
    """Delete an asset nobody uses; one in use can only be archived."""
    uses = AssetUsage.objects.filter(asset=asset, count__gt=0).count()
    if uses:
        raise ConflictError(
            f"“{asset.name}” is in use in {uses} place(s); archive it instead of deleting it.",
            "asset_in_use", {"places": uses},
        )
    files = [asset.file.name, *asset.renditions.values_list("file", flat=True)]
    storage = asset.file.storage
    AssetUsage.objects.filter(asset=asset).delete()
    asset.delete()
    transaction.on_commit(lambda: [storage.delete(name) for name in files if name])
