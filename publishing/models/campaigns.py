"""Channels (where posts go) and campaigns (what goes where, when, to whom)."""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.urls import reverse
from django.utils.text import slugify

from publishing.choices import TERMINAL_CAMPAIGN, CampaignStatus
from publishing.models.base import StatusChange


class Channel(models.Model):
    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=80, unique=True, help_text="Used in feed addresses: /feeds/<slug>.rss")
    kind = models.CharField(max_length=32, help_text="The formatter that shapes posts for this channel.")
    provider_account = models.ForeignKey(
        "gateways.ProviderAccount", on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        limit_choices_to={"capability": "channel_posting"},
        help_text="Empty for the website and for channels a person publishes by hand.",
    )
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name


class Campaign(models.Model):
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    status = models.CharField(max_length=16, choices=CampaignStatus.choices, default=CampaignStatus.DRAFT,
                              editable=False, db_index=True)
    starts_at = models.DateTimeField(null=True, blank=True, help_text="When content without its own time goes out.")
    ends_at = models.DateTimeField(null=True, blank=True)
    contents = models.ManyToManyField("publishing.Content", through="CampaignContent", related_name="campaigns",
                                      blank=True)
    channels = models.ManyToManyField(Channel, related_name="campaigns", blank=True)
    # The audience lives in crm; kept as identifiers so publishing needs no crm migration to run.
    audience = models.JSONField(
        default=dict, blank=True,
        help_text='{"contact_ids": [], "tag_ids": [], "domains": [], "segment_ids": []}',
    )
    budget = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0"))
    spend = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0"), editable=False)
    bid_settings = models.JSONField(default=dict, blank=True)
    utm_enabled = models.BooleanField(
        "add UTM parameters", default=False,
        help_text="Links in this campaign's posts get utm_source, utm_medium and utm_campaign (ones already "
                  "in a link are kept), so web analytics credit the campaign.")
    utm_source = models.CharField(max_length=100, blank=True, help_text="Empty: the channel's short name.")
    utm_medium = models.CharField(max_length=100, blank=True, help_text="Empty: “social”.")
    utm_campaign = models.CharField(max_length=100, blank=True, help_text="Empty: the campaign's name, slugified.")
    reading_grade = models.PositiveSmallIntegerField(
        "reading grade target", null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(18)],
        help_text="The hardest reading level (Flesch-Kincaid grade) for this campaign's content, in place of its "
                  "segments' and its kind of content's targets. Empty: theirs.")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+")
    activated_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("publishing:campaign-detail", args=[self.pk])

    def utm_parameters(self, *, channel_slug: str) -> dict[str, str]:
        """The utm_ parameters its posts' links get, or none when the campaign does not ask for them."""
        if not self.utm_enabled:
            return {}
        return {"utm_source": self.utm_source or channel_slug, "utm_medium": self.utm_medium or "social",
                "utm_campaign": self.utm_campaign or slugify(self.name)}

    @property
    def is_active(self) -> bool:
        return self.status in (CampaignStatus.SCHEDULED, CampaignStatus.RUNNING)

    @property
    def is_finished(self) -> bool:
        return self.status in TERMINAL_CAMPAIGN


class CampaignContent(models.Model):
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="campaign_contents")
    content = models.ForeignKey("publishing.Content", on_delete=models.PROTECT, related_name="+")
    publish_at = models.DateTimeField(null=True, blank=True, help_text="Empty: the campaign's start.")
    channels = models.ManyToManyField(Channel, blank=True, related_name="+",
                                      help_text="Where this content is posted; empty: every channel of the campaign.")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["campaign", "content"], name="publishing_campaign_content")]

    def __str__(self) -> str:
        return f"{self.content_id} in {self.campaign_id}"


class CampaignEvent(StatusChange):
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="events")

    class Meta(StatusChange.Meta):
        pass
