"""Analytics' own tables: daily and hourly roll-ups, engagement scores and their history, fold checkpoints.

Roll-ups are derived data: a full rebuild from the source tables gives the same numbers as the
incremental folds, so they can always be thrown away and recomputed.
"""

from django.db import models


class EventMeasures(models.Model):
    """What the roll-ups count from engagement events (analytics.services.rollups says where each comes
    from)."""

    sent = models.PositiveIntegerField(default=0, help_text="Sends recorded as crm events (not by email deliveries)")
    delivered = models.PositiveIntegerField(default=0)
    opens = models.PositiveIntegerField(default=0)
    clicks = models.PositiveIntegerField(default=0)
    replies = models.PositiveIntegerField(default=0)
    bounces = models.PositiveIntegerField(default=0)
    unsubscribes = models.PositiveIntegerField(default=0)
    complaints = models.PositiveIntegerField(default=0)
    page_views = models.PositiveIntegerField(default=0)
    form_submits = models.PositiveIntegerField(default=0)
    conversions = models.PositiveIntegerField(default=0)
    revenue = models.DecimalField(max_digits=14, decimal_places=2, default=0)

    class Meta:
        abstract = True


class CampaignChannelDay(EventMeasures):
    """Engagement of one campaign on one channel on one day (the team's time zone)."""

    campaign_id = models.BigIntegerField(default=0, help_text="0: activity outside any campaign")
    channel = models.CharField(max_length=40, blank=True)
    day = models.DateField()
    emails_sent = models.PositiveIntegerField(default=0, help_text="Email deliveries sent that day (set on each fold)")

    class Meta:
        verbose_name = "campaign day on a channel"
        constraints = [
            models.UniqueConstraint(
                fields=["campaign_id", "channel", "day"], name="analytics_campaign_channel_day_once"
            ),
        ]
        indexes = [models.Index(fields=["day"], name="analytics_ccd_day")]

    def __str__(self):
        return f"campaign {self.campaign_id} · {self.channel or 'any'} · {self.day}"


class ChannelDay(EventMeasures):
    """Every campaign together on one channel on one day, folded with the campaign roll-up: the overview,
    channel ranking and trends read channels × days rows here instead of summing every campaign's."""

    channel = models.CharField(max_length=40, blank=True)
    day = models.DateField()
    emails_sent = models.PositiveIntegerField(default=0, help_text="Email deliveries sent that day (set on each fold)")

    class Meta:
        verbose_name = "day on a channel"
        constraints = [models.UniqueConstraint(fields=["day", "channel"], name="analytics_channel_day_once")]

    def __str__(self):
        return f"{self.channel or 'any'} · {self.day}"


class MetricHour(EventMeasures):
    """Every campaign and channel together in one hour of the team's wall clock: the hourly series the
    unusual-hours detector reads, folded with the daily roll-up. The hour repeated at a change of clock
    holds both."""

    day = models.DateField()
    hour = models.PositiveSmallIntegerField(help_text="0–23, the team's time zone")
    emails_sent = models.PositiveIntegerField(default=0, help_text="Email deliveries sent that hour (set on each fold)")

    class Meta:
        verbose_name = "hour of activity"
        constraints = [models.UniqueConstraint(fields=["day", "hour"], name="analytics_metric_hour_once")]

    def __str__(self):
        return f"{self.day} {self.hour:02d}:00"


class ContentChannelDay(models.Model):
    """What one piece of content did on one channel on one day, from the channel's metric
    snapshots (which are running totals: a day holds the growth since the day before)."""

    campaign_id = models.BigIntegerField()
    content_id = models.BigIntegerField()
    channel = models.CharField(max_length=80, help_text="The channel's slug")
    day = models.DateField()
    impressions = models.IntegerField(default=0)
    clicks = models.IntegerField(default=0)
    engagements = models.IntegerField(default=0)
    conversions = models.IntegerField(default=0)
    spend = models.DecimalField(max_digits=14, decimal_places=2, default=0)

    class Meta:
        verbose_name = "content day on a channel"
        constraints = [
            models.UniqueConstraint(
                fields=["campaign_id", "content_id", "channel", "day"], name="analytics_content_channel_day_once"
            ),
        ]
        indexes = [models.Index(fields=["day"], name="analytics_cnd_day")]

    def __str__(self):
        return f"content {self.content_id} · {self.channel} · {self.day}"


# The contact links of the scores carry no database constraint: a first full run writes a million
# scores and a million history rows, and the deferred check of each against crm_contact took a fifth
# of the run at commit (bench/NOTES.md). The rows are selected from the contacts in the same statement; deleting
# a contact through the ORM still deletes its scores (Django cascades itself), and every full run
# drops the scores of contacts no longer there (as roll-ups keep campaign ids without a constraint).
class ContactScore(models.Model):
    """The current engagement score of a contact; the contact's own fields mirror it for segments."""

    contact = models.OneToOneField("crm.Contact", on_delete=models.CASCADE, primary_key=True,
                                   related_name="analytics_score", db_constraint=False)
    score = models.PositiveSmallIntegerField()
    tier = models.CharField(max_length=10)
    points = models.FloatField(help_text="Decayed, weighted event points behind the score when it last changed")
    lifetime_value = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    computed_at = models.DateTimeField(help_text="The scoring run that last changed the score, tier or value")

    class Meta:
        # The order of the scores list and page (highest first, then by contact), read from an index,
        # all tiers or one (a tier's page otherwise scanned and sorted every score; bench/NOTES.md).
        indexes = [models.Index(fields=["-score", "contact"], name="analytics_score_rank"),
                   models.Index(fields=["tier", "-score", "contact"], name="analytics_score_tier_rank")]

    def __str__(self):
        return f"{self.contact_id}: {self.score} ({self.tier})"


class ScoreTierCount(models.Model):
    """How many contacts each tier holds, kept by the scoring runs so that the dashboard reads four
    rows instead of counting a million scores."""

    tier = models.CharField(max_length=10, unique=True)
    contacts = models.PositiveIntegerField(default=0)

    def __str__(self):
        return f"{self.tier}: {self.contacts}"


class ContactScoreHistory(models.Model):
    """One row per contact and day on which its score changed, for its trend."""

    # Not indexed alone: the (contact, day) unique constraint's index serves every read by contact.
    contact = models.ForeignKey("crm.Contact", on_delete=models.CASCADE, related_name="analytics_score_history",
                                db_constraint=False, db_index=False)
    day = models.DateField()
    score = models.PositiveSmallIntegerField()
    tier = models.CharField(max_length=10)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["contact", "day"], name="analytics_score_history_once")]

    def __str__(self):
        return f"{self.contact_id} on {self.day}: {self.score}"


class FoldCheckpoint(models.Model):
    """How far an incremental roll-up has read its source (events are append-only: by id)."""

    name = models.CharField(max_length=60, unique=True)
    last_id = models.BigIntegerField(default=0)
    rows_folded = models.BigIntegerField(default=0)
    folded_at = models.DateTimeField(null=True, blank=True)
    rebuilt_at = models.DateTimeField(null=True, blank=True)
    kept_before = models.DateField(
        null=True, blank=True,
        help_text="Data retention deleted the raw events of the days before this one: a rebuild keeps those days")

    def __str__(self):
        return f"{self.name} up to #{self.last_id}"
