"""Publishing jobs (one post of one content to one channel in one campaign) and their metrics."""

import uuid
from decimal import Decimal

from django.conf import settings
from django.db import models

from publishing.choices import DUE_JOB, JobStatus, MetricSource, WeatherCondition
from publishing.models.base import StatusChange


class PublishingJob(models.Model):
    campaign = models.ForeignKey("publishing.Campaign", on_delete=models.CASCADE, related_name="jobs")
    content = models.ForeignKey("publishing.Content", on_delete=models.PROTECT, related_name="jobs")
    channel = models.ForeignKey("publishing.Channel", on_delete=models.PROTECT, related_name="jobs")
    version = models.ForeignKey("publishing.ChannelVersion", on_delete=models.PROTECT, related_name="jobs")
    status = models.CharField(max_length=16, choices=JobStatus.choices, default=JobStatus.SCHEDULED,
                              editable=False)
    scheduled_at = models.DateTimeField(db_index=True)
    # When the dispatcher should next take the job: scheduled_at at first, then the retry time.
    due_at = models.DateTimeField(editable=False)
    next_retry_at = models.DateTimeField(null=True, blank=True, editable=False)
    published_at = models.DateTimeField(null=True, blank=True, editable=False)
    attempts = models.PositiveIntegerField(default=0, editable=False, help_text="Calls made to the channel.")
    retries = models.PositiveIntegerField(default=0, editable=False, help_text="Failed calls counted toward the limit.")
    urgent = models.BooleanField(default=False, help_text="Claimed before every other due job.")
    # Set while a dispatcher holds the job; the dispatcher's heartbeat moves lease_until on while it
    # lives, so an expired lease means the dispatcher stopped.
    claim_token = models.CharField(max_length=36, blank=True, editable=False, db_index=True)
    lease_until = models.DateTimeField(null=True, blank=True, editable=False)
    # Committed right before the request to the channel: from then on the post may exist. A claim
    # without it was never sent and simply goes back to the queue.
    sending_since = models.DateTimeField(null=True, blank=True, editable=False,
                                         help_text="When the request to the channel may have started.")
    # Stable for the job's whole life, so a retry is recognised by channels that honour it (Mastodon).
    idempotency_key = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    external_id = models.CharField(max_length=200, blank=True)
    external_url = models.URLField(max_length=500, blank=True)
    draft = models.TextField(blank=True, help_text="Ready-to-paste text for channels published by hand.")
    error_message = models.TextField(blank=True)
    error_details = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["scheduled_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "content", "channel"], name="publishing_one_job_per_channel"),
        ]
        indexes = [
            models.Index(fields=["status", "due_at"], name="publishing_job_due"),
            # The dispatcher's claim reads due jobs urgent first, then in due order: this one hands
            # them over already sorted, where the one above gives both statuses' ranges to sort
            # (bench/NOTES.md). It holds only
            # jobs waiting to go out.
            models.Index(fields=["-urgent", "due_at", "id"], condition=models.Q(status__in=DUE_JOB),
                         name="publishing_job_queue"),
        ]

    def __str__(self) -> str:
        return f"Job {self.pk}: {self.content_id} → {self.channel_id} ({self.status})"


class JobEvent(StatusChange):
    job = models.ForeignKey(PublishingJob, on_delete=models.CASCADE, related_name="events")
    by_system = models.CharField(max_length=40, blank=True)

    class Meta(StatusChange.Meta):
        pass


class MetricSnapshot(models.Model):
    job = models.ForeignKey(PublishingJob, on_delete=models.CASCADE, related_name="metrics")
    taken_at = models.DateTimeField(db_index=True)
    impressions = models.PositiveIntegerField(default=0)
    clicks = models.PositiveIntegerField(default=0)
    engagements = models.PositiveIntegerField(default=0)
    conversions = models.PositiveIntegerField(default=0)
    spend = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0"))
    source = models.CharField(max_length=16, choices=MetricSource.choices, default=MetricSource.MANUAL)
    raw = models.JSONField(default=dict, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+")

    class Meta:
        ordering = ["-taken_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["job", "taken_at", "source"], name="publishing_one_snapshot_per_time"),
        ]

    def __str__(self) -> str:
        return f"Metrics of job {self.job_id} at {self.taken_at:%Y-%m-%d %H:%M}"


class WeatherConditionRule(models.Model):
    """A weather condition in a chosen city (crm.CityWeather, refreshed hourly) and when to give up on it;
    shared by a post's own hold and a campaign's."""

    city = models.ForeignKey("crm.CityWeather", on_delete=models.PROTECT, related_name="+")
    condition = models.CharField(max_length=20, choices=WeatherCondition.choices)
    threshold = models.FloatField(null=True, blank=True, help_text="°C, for the temperature conditions")
    give_up_at = models.DateTimeField(help_text="When to stop waiting; the post then fails with the reason")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        """What the post waits for, in the marketer's words ("temperature above 25 °C in Lyon, FR")."""
        if self.condition in (WeatherCondition.TEMPERATURE_ABOVE, WeatherCondition.TEMPERATURE_BELOW):
            side = "above" if self.condition == WeatherCondition.TEMPERATURE_ABOVE else "below"
            return f"temperature {side} {self.threshold:g} °C in {self.city}"
        return f"{self.get_condition_display().lower()} in {self.city}"


class WeatherHold(WeatherConditionRule):
    """A post held until a weather condition holds in a chosen city, and given up at a deadline. The job
    waits in "waiting for the weather"; the check releases it to the queue. A hold with no `released_at`
    still holds: a paused post goes back to waiting on resume, a retried one waits again."""

    job = models.OneToOneField(PublishingJob, on_delete=models.CASCADE, related_name="weather_hold")
    released_at = models.DateTimeField(null=True, blank=True, editable=False)


class CampaignWeatherHold(WeatherConditionRule):
    """Every post of a campaign, or of its chosen channels, held until a weather condition holds: each
    post gets its own WeatherHold (at activation, or at once when the campaign already runs)."""

    campaign = models.OneToOneField("publishing.Campaign", on_delete=models.CASCADE, related_name="weather_hold")
    channels = models.ManyToManyField("publishing.Channel", blank=True, related_name="+",
                                      help_text="Only the posts on these channels are held; none: every post")
