"""Where assets are used and how they perform; references to content and campaigns are loose ids
because media never imports publishing or analytics."""

from django.db import models

from media.models.assets import Asset


class AssetUsage(models.Model):
    asset = models.ForeignKey(Asset, on_delete=models.PROTECT, related_name="usages")
    used_in_kind = models.CharField(max_length=40, help_text="What uses the asset, e.g. content_version, campaign.")
    used_in_id = models.CharField(max_length=64)
    campaign_id = models.PositiveBigIntegerField(null=True, blank=True)
    channel = models.CharField(max_length=40, blank=True)
    count = models.PositiveIntegerField(default=0, help_text="Live uses; 0 once every use was released.")
    first_used_at = models.DateTimeField()
    last_used_at = models.DateTimeField()

    class Meta:
        ordering = ["-last_used_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["asset", "used_in_kind", "used_in_id", "channel"], name="media_usage_one_per_place"
            )
        ]
        indexes = [models.Index(fields=["asset", "count"])]

    def __str__(self) -> str:
        return f"{self.asset_id} in {self.used_in_kind} {self.used_in_id} ×{self.count}"


class AssetPerformance(models.Model):
    asset = models.ForeignKey(Asset, on_delete=models.CASCADE, related_name="performance")
    channel = models.CharField(max_length=40)
    campaign_id = models.PositiveBigIntegerField(null=True, blank=True)
    day = models.DateField()
    impressions = models.PositiveBigIntegerField(default=0)
    clicks = models.PositiveBigIntegerField(default=0)
    conversions = models.PositiveBigIntegerField(default=0)

    class Meta:
        ordering = ["-day", "channel"]
        verbose_name_plural = "asset performance"
        constraints = [
            models.UniqueConstraint(
                fields=["asset", "channel", "campaign_id", "day"],
                condition=models.Q(campaign_id__isnull=False),
                name="media_performance_one_per_campaign_day",
            ),
            models.UniqueConstraint(
                fields=["asset", "channel", "day"],
                condition=models.Q(campaign_id__isnull=True),
                name="media_performance_one_per_day_without_campaign",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.asset_id} {self.channel} {self.day}"

    @property
    def ctr(self) -> float | None:
        return self.clicks / self.impressions if self.impressions else None
