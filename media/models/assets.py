from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from media.choices import (
    AssetKindChoices,
    AssetStatusChoices,
    OrientationChoices,
    RenditionFormatChoices,
    ReviewActionChoices,
)

UNIT_INTERVAL = [MinValueValidator(0.0), MaxValueValidator(1.0)]


def asset_file_path(asset: "Asset", filename: str) -> str:
    # Named by content, so the same bytes can never be stored twice under two names.
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else "bin"
    return f"assets/{asset.sha256[:2]}/{asset.sha256}.{extension}"


def rendition_file_path(rendition: "Rendition", filename: str) -> str:
    return rendition.stable_path


class Library(models.Model):
    name = models.CharField(max_length=120, unique=True)
    description = models.TextField(blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="media_libraries"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "libraries"

    def __str__(self) -> str:
        return self.name


class AssetTag(models.Model):
    name = models.CharField(max_length=60, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Asset(models.Model):
    library = models.ForeignKey(Library, on_delete=models.PROTECT, related_name="assets")
    file = models.FileField(upload_to=asset_file_path, max_length=255)
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=10, choices=AssetKindChoices.choices)
    mime_type = models.CharField(max_length=80, help_text="Read from the content, never from the file name.")
    size_bytes = models.PositiveBigIntegerField()
    width = models.PositiveIntegerField(null=True, blank=True, help_text="As displayed (EXIF orientation applied).")
    height = models.PositiveIntegerField(null=True, blank=True)
    orientation = models.CharField(max_length=10, choices=OrientationChoices.choices, blank=True)
    sha256 = models.CharField("SHA-256", max_length=64, unique=True)
    perceptual_hash = models.CharField(
        max_length=16, blank=True, db_index=True, help_text="64-bit difference hash (hex) for near-duplicates."
    )
    alt_text = models.CharField(max_length=300, blank=True, help_text="What the image shows, for screen readers.")
    description = models.TextField(blank=True)
    licence = models.CharField(max_length=120, blank=True)
    usage_rights = models.TextField(blank=True, help_text="Where and how the asset may be used.")
    rights_expire_on = models.DateField(null=True, blank=True, help_text="Last day the asset may be used.")
    status = models.CharField(
        max_length=10, choices=AssetStatusChoices.choices, default=AssetStatusChoices.DRAFT, db_index=True
    )
    focal_x = models.FloatField(default=0.5, validators=UNIT_INTERVAL, help_text="0 = left edge, 1 = right edge.")
    focal_y = models.FloatField(default=0.5, validators=UNIT_INTERVAL, help_text="0 = top edge, 1 = bottom edge.")
    tags = models.ManyToManyField(AssetTag, blank=True, related_name="assets")
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="media_uploads"
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        permissions = [("approve_asset", "Can approve or reject assets")]
        constraints = [
            models.CheckConstraint(condition=models.Q(focal_x__gte=0, focal_x__lte=1), name="media_asset_focal_x_0_1"),
            models.CheckConstraint(condition=models.Q(focal_y__gte=0, focal_y__lte=1), name="media_asset_focal_y_0_1"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_image(self) -> bool:
        return self.kind == AssetKindChoices.IMAGE


class AssetReview(models.Model):
    """One row per status change: who moved the asset, when, from where to where and why."""

    asset = models.ForeignKey(Asset, on_delete=models.CASCADE, related_name="reviews")
    action = models.CharField(max_length=10, choices=ReviewActionChoices.choices)
    from_status = models.CharField(max_length=10, choices=AssetStatusChoices.choices)
    to_status = models.CharField(max_length=10, choices=AssetStatusChoices.choices)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    note = models.TextField(blank=True)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.asset_id}: {self.from_status} → {self.to_status}"


class Rendition(models.Model):
    asset = models.ForeignKey(Asset, on_delete=models.CASCADE, related_name="renditions")
    preset = models.CharField(max_length=40, help_text="thumbnail, w640, instagram_square ...")
    format = models.CharField(max_length=5, choices=RenditionFormatChoices.choices)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    size_bytes = models.PositiveBigIntegerField(default=0)
    file = models.FileField(upload_to=rendition_file_path, max_length=255)
    source_key = models.CharField(
        max_length=100, help_text="Source bytes and focal point it was made from; unchanged means nothing to redo."
    )
    generated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["asset_id", "preset", "format"]
        constraints = [
            models.UniqueConstraint(fields=["asset", "preset", "format"], name="media_rendition_one_per_preset_format")
        ]

    def __str__(self) -> str:
        return f"{self.asset_id} {self.preset}.{self.format}"

    @property
    def stable_path(self) -> str:
        # Deterministic per asset, preset and format: regenerating overwrites the same URL.
        extension = "jpg" if self.format == RenditionFormatChoices.JPEG else self.format
        return f"renditions/{self.asset_id}/{self.preset}.{extension}"

    @property
    def url(self) -> str:
        return self.file.url
