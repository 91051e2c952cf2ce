"""Kinds, statuses and the approval transitions of the asset library."""

from django.db import models


class AssetKindChoices(models.TextChoices):
    IMAGE = "image", "Image"
    VIDEO = "video", "Video"
    AUDIO = "audio", "Audio"
    DOCUMENT = "document", "Document"


class AssetStatusChoices(models.TextChoices):
    DRAFT = "draft", "Draft"
    IN_REVIEW = "in_review", "In review"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"
    ARCHIVED = "archived", "Archived"


class ReviewActionChoices(models.TextChoices):
    SUBMIT = "submit", "Submitted for review"
    APPROVE = "approve", "Approved"
    REJECT = "reject", "Rejected"
    ARCHIVE = "archive", "Archived"
    RESTORE = "restore", "Restored to draft"


S = AssetStatusChoices
A = ReviewActionChoices
# (from status, action) -> to status: the only moves an asset's status can make.
ASSET_TRANSITIONS: dict[tuple[str, str], str] = {
    (S.DRAFT, A.SUBMIT): S.IN_REVIEW,
    (S.REJECTED, A.SUBMIT): S.IN_REVIEW,
    (S.IN_REVIEW, A.APPROVE): S.APPROVED,
    (S.IN_REVIEW, A.REJECT): S.REJECTED,
    (S.DRAFT, A.ARCHIVE): S.ARCHIVED,
    (S.IN_REVIEW, A.ARCHIVE): S.ARCHIVED,
    (S.APPROVED, A.ARCHIVE): S.ARCHIVED,
    (S.REJECTED, A.ARCHIVE): S.ARCHIVED,
    (S.ARCHIVED, A.RESTORE): S.DRAFT,
}
TERMINAL_STATUSES = frozenset({S.ARCHIVED})
del S, A


class OrientationChoices(models.TextChoices):
    LANDSCAPE = "landscape", "Landscape"
    PORTRAIT = "portrait", "Portrait"
    SQUARE = "square", "Square"


class RenditionFormatChoices(models.TextChoices):
    JPEG = "jpeg", "JPEG"
    PNG = "png", "PNG"
    WEBP = "webp", "WebP"
    GIF = "gif", "GIF"  # an animated GIF's publish rendition, every frame kept
    # The metadata-free publish copy of a video, audio or PDF upload keeps the original's format.
    MP4 = "mp4", "MP4"
    MOV = "mov", "QuickTime"
    WEBM = "webm", "WebM"
    MP3 = "mp3", "MP3"
    WAV = "wav", "WAV"
    OGG = "ogg", "Ogg"
    PDF = "pdf", "PDF"
