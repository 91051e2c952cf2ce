"""The people AICMO markets to, what happened with them, and the runs that feed them.

Workflows live in crm/services; models hold data, constraints and small properties only.
"""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import DateTimeField, F, Q, Value
from django.db.models.functions import Coalesce, Lower

from crm.choices import (
    ConsentStatus,
    EmailStatus,
    EngagementTier,
    EnrichmentItemStatus,
    EventKind,
    ImportedRows,
    ImportPolicy,
    LifecycleStatus,
    RunStatus,
    SmsConsentStatus,
    SuppressionKind,
    SuppressionReason,
    ValueTier,
)

# A contact never active sorts after every active one, in either direction. The sort key is never NULL: an index
# on it serves the sort, and a deep page can seek past a row by comparing (key, id) with it, which a NULL defeats.
NEVER_ACTIVE = {True: datetime(1, 1, 1, tzinfo=UTC), False: datetime(9999, 12, 31, tzinfo=UTC)}


def last_activity_key(*, descending: bool) -> Coalesce:
    """The last activity as the contact list sorts it, most recent first (`descending`) or least recent first."""
    return Coalesce("last_activity_at", Value(NEVER_ACTIVE[descending], output_field=DateTimeField()))


def time_zone_validate(name: str) -> None:
    """An IANA zone name zoneinfo knows ("Europe/Paris"); blank means the team's zone."""
    if name and not time_zone_known(name):
        raise ValidationError(f"{name!r} is not a time zone name such as Europe/Paris or America/New_York.")


def time_zone_known(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def default_segment_rules() -> dict:
    return {"op": "and", "rules": []}


class Company(models.Model):
    domain = models.CharField(max_length=253, unique=True, help_text="e.g. example.com, lower case")
    name = models.CharField(max_length=200, blank=True)
    industry = models.CharField(max_length=120, blank=True)
    size = models.CharField(max_length=40, blank=True, help_text="Head count or range, e.g. 11-50")
    website = models.URLField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "companies"
        ordering = ["name", "domain"]
        constraints = [
            models.CheckConstraint(condition=Q(domain=Lower("domain")), name="crm_company_domain_lower"),
        ]

    def __str__(self) -> str:
        return self.name or self.domain


class Tag(models.Model):
    name = models.CharField(max_length=80, unique=True)
    color = models.CharField(max_length=7, blank=True, help_text="Optional colour as #rrggbb")

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Topic(models.Model):
    """A subject people can say they care about; personalised newsletters choose blocks by it."""

    name = models.CharField(max_length=120, unique=True)
    slug = models.SlugField(max_length=60, unique=True, help_text="Stable name used by the API and imports")
    description = models.TextField(blank=True, help_text="Shown under the name in the preference centre")
    public = models.BooleanField(default=True, help_text="Offered to contacts in the email preference centre")

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Contact(models.Model):
    email = models.EmailField(
        max_length=254, unique=True, help_text="Stored in lower case, so it is unique whatever the case typed"
    )
    first_name = models.CharField(max_length=120, blank=True)
    last_name = models.CharField(max_length=120, blank=True)
    job_title = models.CharField(max_length=200, blank=True)
    phone = models.CharField(max_length=40, blank=True)
    # No database foreign key (db_constraint=False): at an import's commit PostgreSQL checked every
    # new contact's company (deferred, a SELECT ... FOR KEY SHARE each), a tenth of a chunk's time
    # (bench/NOTES.md). Imports only write ids of companies the same statement reads, and Django's delete
    # collector still applies SET_NULL when a company is deleted through the ORM (company_delete, an
    # instance, a queryset), the only way anything deletes one (no raw DELETE of crm_company outside
    # benches, which truncate contacts with it). company_delete locks out contact writers while it runs,
    # so an import assigning the company commits first and is cleared too (see company_delete).
    company = models.ForeignKey(Company, null=True, blank=True, on_delete=models.SET_NULL, related_name="contacts",
                                db_constraint=False)
    domain = models.CharField(max_length=253, editable=False, help_text="Taken from the email")
    linkedin_url = models.URLField(blank=True, verbose_name="LinkedIn URL")
    city = models.CharField(max_length=120, blank=True)
    country = models.CharField(max_length=120, blank=True)
    source = models.CharField(max_length=80, blank=True, help_text="Where this contact came from")
    time_zone = models.CharField(max_length=64, blank=True, db_default="", validators=[time_zone_validate],
                                 help_text="An IANA name such as Europe/Paris; blank: the team's time zone. "
                                           "Journeys wait for a weekday and hour in it")
    lifecycle_status = models.CharField(max_length=20, choices=LifecycleStatus.choices, default=LifecycleStatus.NEW)
    email_status = models.CharField(max_length=10, choices=EmailStatus.choices, default=EmailStatus.UNKNOWN)
    consent_status = models.CharField(max_length=20, choices=ConsentStatus.choices, default=ConsentStatus.SUBSCRIBED)
    consent_changed_at = models.DateTimeField(null=True, blank=True)
    consent_source = models.CharField(max_length=120, blank=True, help_text="How consent was given or withdrawn")
    custom_fields = models.JSONField(default=dict, blank=True)
    field_sources = models.JSONField(
        default=dict, blank=True, editable=False,
        help_text='Which source set each field: "manual", "import" or a provider name',
    )
    # Indexed with the id (crm_contact_score) for the contact list's "Highest score" pages, at a cost to
    # scoring: a changed score can no longer be updated in place (HOT, see migration 0007), so each one
    # adds an entry to every index of the table (figures in bench/NOTES.md).
    engagement_score = models.PositiveSmallIntegerField(default=0, validators=[MaxValueValidator(100)])
    engagement_tier = models.CharField(max_length=10, choices=EngagementTier.choices,
                                       default=EngagementTier.INACTIVE)
    soft_bounce_count = models.PositiveIntegerField(default=0)
    stripe_customer_id = models.CharField(max_length=255, blank=True, db_default="", verbose_name="Stripe customer",
                                          help_text="Set when a Stripe customer with this email pays or is created")
    lifetime_value = models.DecimalField(max_digits=14, decimal_places=2, default=0, db_default=0, editable=False,
                                         help_text="Payments minus refunds (conversion values)")
    value_tier = models.CharField(max_length=10, choices=ValueTier.choices, blank=True, default=ValueTier.NONE,
                                  db_default=ValueTier.NONE,
                                  editable=False)
    erased_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Inactivity is judged from the events, and data retention deletes old events: the latest of those
    # it deleted is kept here so that a contact is not taken for inactive because its history went.
    last_removed_activity_at = models.DateTimeField(
        null=True, blank=True, editable=False,
        help_text="The latest activity among the events removed by data retention")
    # Kept as events are recorded (crm.services.engagement), so "Recently active" pages read an index instead of
    # every contact's latest event.
    last_activity_at = models.DateTimeField(
        null=True, blank=True, editable=False, verbose_name="last activity",
        help_text="When the contact last opened, clicked, replied, filled a form, paid or was noted (any event "
                  "but a sending, delivery or bounce)")
    # The link tables have no database foreign keys (db_constraint=False): checking both ends of every
    # link at commit took 38% of an import's database time (a SELECT ... FOR KEY SHARE per link, which
    # also dirtied the contact rows again). Integrity is kept by the application: links are written
    # only for ids just read or returned, and Django's delete collector removes a contact's, tag's or
    # topic's links when it is deleted through the ORM, the only way anything deletes them (no raw
    # DELETE or TRUNCATE of contacts, tags or topics outside benches, which truncate the links too).
    tags = models.ManyToManyField(Tag, blank=True, related_name="contacts", db_constraint=False)
    topics = models.ManyToManyField(Topic, blank=True, related_name="contacts", db_constraint=False,
                                    help_text="Topics of interest; change them through crm.services.contact_topics_set")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(email=Lower("email")), name="crm_contact_email_lower"),
            models.CheckConstraint(condition=Q(engagement_score__lte=100), name="crm_contact_score_max_100"),
        ]
        # Declared here rather than with db_index=True, which on PostgreSQL also builds a second
        # varchar_pattern_ops ("_like") index per column for LIKE 'prefix%'. These columns are only
        # compared whole (=, IN) or by suffix, so that copy served no query and every import paid
        # for it on each row (migration 0005 also drops the email one).
        indexes = [
            models.Index(fields=["domain"], name="crm_contact_domain"),
            models.Index(fields=["lifecycle_status"], name="crm_contact_lifecycle"),
            models.Index(fields=["email_status"], name="crm_contact_email_status"),
            # "Highest score" first pages read 50 rows from here instead of sorting every matching contact.
            models.Index(fields=["engagement_score", "id"], name="crm_contact_score"),
            # Last activity pages, most recent and least recent first, each with the never active last.
            models.Index(last_activity_key(descending=True), F("id"), name="crm_contact_recently_active"),
            models.Index(last_activity_key(descending=False), F("id"), name="crm_contact_long_inactive"),
            # Stripe events name the customer, not always the email: matched by this id first.
            models.Index(fields=["stripe_customer_id"], name="crm_contact_stripe_customer",
                         condition=~Q(stripe_customer_id="")),
        ]

    def __str__(self) -> str:
        return self.email

    @property
    def full_name(self) -> str:
        return " ".join(part for part in (self.first_name, self.last_name) if part)


class Segment(models.Model):
    name = models.CharField(max_length=120, unique=True)
    description = models.TextField(blank=True)
    rules = models.JSONField(
        default=default_segment_rules,
        help_text='{"op": "and"|"or", "rules": [{"field", "operator", "value"} or a nested group]}',
    )
    announce_entries = models.BooleanField(
        default=False, verbose_name="Announce entries",
        help_text="Send a segment.entered webhook when a contact comes into this segment (checked every few minutes).",
    )
    reading_grade = models.PositiveSmallIntegerField(
        "reading grade target", null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(18)],
        help_text="The hardest reading level (Flesch-Kincaid grade) for content aimed at this segment, in place of "
                  "the target for its kind of content. Empty: the kind's target.",
    )
    entries_tracked_at = models.DateTimeField(
        null=True, blank=True, editable=False,
        help_text="When the members were first recorded; those already in then are not announced.",
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class SegmentEntry(models.Model):
    """A contact known to be in a segment that announces entries: the next check announces only the others."""

    segment = models.ForeignKey(Segment, on_delete=models.CASCADE, related_name="entries")
    contact = models.ForeignKey("crm.Contact", on_delete=models.CASCADE, related_name="+")
    entered_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "segment entry"
        verbose_name_plural = "segment entries"
        constraints = [models.UniqueConstraint(fields=["segment", "contact"], name="crm_segment_entry_unique")]

    def __str__(self) -> str:
        return f"{self.contact_id} in {self.segment_id}"


class ContactList(models.Model):
    """A static list: the people someone put on it, unlike a segment, which is recomputed from rules."""

    name = models.CharField(max_length=120, unique=True)
    description = models.TextField(blank=True)
    members = models.ManyToManyField("crm.Contact", through="crm.ContactListMember", related_name="lists")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name = "list of contacts"
        verbose_name_plural = "lists of contacts"

    def __str__(self) -> str:
        return self.name


class ContactListMember(models.Model):
    """Who is on a list, who put them there and when; a person is on a list once."""

    contact_list = models.ForeignKey(ContactList, on_delete=models.CASCADE, related_name="memberships")
    contact = models.ForeignKey("crm.Contact", on_delete=models.CASCADE, related_name="list_memberships")
    added_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="+")
    added_at = models.DateTimeField()

    class Meta:
        verbose_name = "list member"
        constraints = [models.UniqueConstraint(fields=["contact_list", "contact"], name="crm_list_member_once")]

    def __str__(self) -> str:
        return f"{self.contact_id} on {self.contact_list_id}"


class EngagementEvent(models.Model):
    """Append-only. Campaigns, jobs and deliveries are referenced loosely: crm never imports publishing."""

    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=20, choices=EventKind.choices)
    occurred_at = models.DateTimeField(db_index=True)
    value = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True,
                                help_text="Conversion value")
    campaign_id = models.BigIntegerField(null=True, blank=True)
    channel = models.CharField(max_length=40, blank=True)
    source_kind = models.CharField(max_length=40, blank=True, help_text='e.g. "delivery", "job", "import"')
    source_id = models.CharField(max_length=80, blank=True)
    detail = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-occurred_at", "-id"]
        indexes = [
            models.Index(fields=["contact", "occurred_at"], name="crm_event_contact_time"),
            # "opened in the last N days" for a whole segment: one range scan that yields the contacts
            # (index-only), hashed and joined, instead of a probe into the events of every candidate.
            models.Index(fields=["kind", "occurred_at", "contact"], name="crm_event_kind_time_contact"),
            # Serves "opened in the last N days" as an EXISTS probe per contact.
            models.Index(fields=["contact", "kind", "occurred_at"], name="crm_event_contact_kind_time"),
            # A campaign's reach per channel (distinct contacts, and those who opened) read from the
            # index alone; it also serves every look-up by campaign the single-column index did.
            models.Index(fields=["campaign_id", "channel", "contact", "kind"], name="crm_event_campaign_reach"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.contact_id} · {self.occurred_at:%Y-%m-%d %H:%M}"


class StripeEvent(models.Model):
    """One row per Stripe event id: Stripe retries and may resend an event, which must count once."""

    event_id = models.CharField(max_length=255, unique=True)
    type = models.CharField(max_length=80)
    received_at = models.DateTimeField(auto_now_add=True)
    contact = models.ForeignKey(Contact, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["-received_at", "-id"]

    def __str__(self) -> str:
        return f"{self.type} {self.event_id}"


class GitHubDelivery(models.Model):
    """One row per X-GitHub-Delivery: GitHub redelivers on a failure or when asked, which must count once."""

    delivery_id = models.CharField(max_length=64, unique=True)
    event = models.CharField(max_length=60)
    received_at = models.DateTimeField(auto_now_add=True)
    contact = models.ForeignKey(Contact, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["-received_at", "-id"]
        verbose_name = "GitHub delivery"
        verbose_name_plural = "GitHub deliveries"

    def __str__(self) -> str:
        return f"{self.event} {self.delivery_id}"


class LifecycleTransition(models.Model):
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="lifecycle_transitions")
    from_status = models.CharField(max_length=20, choices=LifecycleStatus.choices)
    to_status = models.CharField(max_length=20, choices=LifecycleStatus.choices)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                           related_name="+")
    by_system = models.CharField(max_length=60, blank=True, help_text='e.g. "import", "enrichment", "email:open"')
    reason = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["contact", "created_at"], name="crm_transition_contact_time")]

    def __str__(self) -> str:
        return f"{self.contact_id}: {self.from_status} → {self.to_status}"


class EnrichmentRecord(models.Model):
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="enrichment_records")
    provider = models.CharField(max_length=80)
    fields = models.JSONField(default=dict, blank=True)
    raw = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["contact", "created_at"], name="crm_enrichment_contact_time")]

    def __str__(self) -> str:
        return f"{self.provider} · {self.contact_id}"


class RunRecord(models.Model):
    """What a crm run with its own workflow records: who asked, its status, when it ran and why it stopped.
    Its shared row (`run`, on the "Background work" page and /api/runs/) follows it: the crm services
    that move the status copy it there in the same transaction (crm.run_rows)."""

    run = models.OneToOneField("aicmo_site.BackgroundRun", null=True, blank=True, on_delete=models.SET_NULL,
                               related_name="%(class)s", editable=False,
                               help_text="This run's row among all background work")
    status = models.CharField(max_length=12, choices=RunStatus.choices, default=RunStatus.QUEUED, db_index=True)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    progressed_at = models.DateTimeField(
        null=True, blank=True, help_text="When the run last moved forward; a run still open long after is stuck.")
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        abstract = True


class EnrichmentRun(RunRecord):
    scope = models.JSONField(
        default=dict, blank=True,
        help_text='What was asked: {"contact_ids": [...]}, {"segment_id": 3}, {"filter": "tag=vip"} (a contact '
                  'list filter) or {"all_new": true}',
    )
    total = models.PositiveIntegerField(default=0)
    queued = models.PositiveIntegerField(default=0)
    enriched = models.PositiveIntegerField(default=0, help_text="Contacts a provider found, verified or not")
    verified = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    skipped = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"Enrichment run {self.pk} ({self.status})"

    def shared_figures(self) -> dict:
        """done, total and result for the shared run row."""
        return {"done": self.total - self.queued, "total": self.total,
                "result": {"enriched": self.enriched, "verified": self.verified, "failed": self.failed,
                           "skipped": self.skipped}}

    @property
    def progress(self) -> int:
        """Percent of contacts no longer waiting."""
        if not self.total:
            return 100 if self.status == RunStatus.COMPLETED else 0
        return round(100 * (self.total - self.queued) / self.total)


class EnrichmentRunItem(models.Model):
    """One contact of a run: what makes a run resumable and never doubles work."""

    run = models.ForeignKey(EnrichmentRun, on_delete=models.CASCADE, related_name="items")
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="enrichment_items")
    status = models.CharField(max_length=10, choices=EnrichmentItemStatus.choices,
                              default=EnrichmentItemStatus.QUEUED)
    attempts = models.PositiveSmallIntegerField(default=0, help_text="Provider outages this contact waited out")
    # Apart from the status: a contact both enriched and verified ends "verified", and still counts as enriched.
    enriched = models.BooleanField(default=False, help_text="A provider found this person and filled their fields")
    detail = models.CharField(max_length=300, blank=True)
    # A worker takes a batch by writing its token here; a claim older than the task timeout is stale.
    claim_token = models.CharField(max_length=32, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["run", "contact"], name="crm_enrichment_item_once")]
        indexes = [models.Index(fields=["run", "status"], name="crm_enrichment_item_status")]

    def __str__(self) -> str:
        return f"{self.run_id}/{self.contact_id}: {self.status}"


class SmsConsent(models.Model):
    """Whether a phone number may receive marketing text messages. Kept per number (E.164): a STOP comes
    from a number, may come from one no contact holds yet, and must outlive the contact it was given for
    (erased or deleted: the link is cleared, the opt-out stays)."""

    number = models.CharField(max_length=16, unique=True, help_text="E.164, e.g. +447700900123")
    contact = models.ForeignKey(Contact, null=True, blank=True, on_delete=models.SET_NULL, related_name="sms_consents")
    # Not "status": consent is what a person said, set to whatever they last said, not a workflow's step.
    consent = models.CharField(max_length=10, choices=SmsConsentStatus.choices)
    source = models.CharField(max_length=120, help_text="How consent was given or withdrawn")
    changed_at = models.DateTimeField()

    class Meta:
        ordering = ["-changed_at", "-id"]
        verbose_name = "SMS consent"

    def __str__(self) -> str:
        return f"{self.number}: {self.get_consent_display()}"


class PushSubscription(models.Model):
    """One browser's web-push subscription, given by the browser when the person allowed notifications
    (that permission is the consent). `contact` is set when the page knew who they were."""

    endpoint = models.URLField(max_length=1000, unique=True, help_text="The push service's URL for this browser")
    p256dh = models.CharField(max_length=100, help_text="The browser's public key (base64url)")
    auth = models.CharField(max_length=40, help_text="The browser's authentication secret (base64url)")
    contact = models.ForeignKey(Contact, null=True, blank=True, on_delete=models.CASCADE,
                                related_name="push_subscriptions")
    user_agent = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "push subscription"

    def __str__(self) -> str:
        return f"{self.user_agent or 'browser'} ({self.created_at:%Y-%m-%d})"


class Suppression(models.Model):
    value = models.CharField(max_length=254, help_text="An email address or a domain, lower case")
    kind = models.CharField(max_length=10, choices=SuppressionKind.choices)
    reason = models.CharField(max_length=20, choices=SuppressionReason.choices)
    source = models.CharField(max_length=120, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "value"], name="crm_suppression_once"),
            models.CheckConstraint(condition=Q(value=Lower("value")), name="crm_suppression_value_lower"),
        ]

    def __str__(self) -> str:
        return f"{self.value} ({self.get_reason_display()})"


class ImportRun(RunRecord):
    file = models.FileField(upload_to="crm/imports/")
    original_name = models.CharField(max_length=255, blank=True)
    delimiter = models.CharField(max_length=1, blank=True, help_text="Empty: detected from the file")
    encoding = models.CharField(max_length=20, blank=True, help_text="Empty: detected from the file")
    mapping = models.JSONField(default=dict, blank=True,
                               help_text='column → contact field, "custom:<name>", "tags", "topics" or "" to ignore')
    policy = models.CharField(max_length=20, choices=ImportPolicy.choices, default=ImportPolicy.UPDATE)
    tag = models.CharField(max_length=80, blank=True, help_text="Tag added to every imported contact")
    # A journey of automation, above crm: kept by id, offered and checked through crm.imports.followups.
    journey_id = models.PositiveIntegerField(null=True, blank=True, verbose_name="journey",
                                             help_text="The journey the imported contacts enter, if any")
    journey_rows = models.CharField(max_length=8, choices=ImportedRows.choices, default=ImportedRows.BOTH,
                                    verbose_name="contacts entering the journey")
    total_rows = models.PositiveIntegerField(default=0)
    processed_rows = models.PositiveIntegerField(default=0)
    created_count = models.PositiveIntegerField(default=0)
    updated_count = models.PositiveIntegerField(default=0)
    skipped_count = models.PositiveIntegerField(default=0)
    failed_count = models.PositiveIntegerField(default=0)
    error_report = models.FileField(upload_to="crm/import-errors/", blank=True)

    def __str__(self) -> str:
        return f"Import {self.original_name or self.pk} ({self.status})"

    def shared_figures(self) -> dict:
        """done, total and result for the shared run row."""
        return {"done": self.processed_rows, "total": self.total_rows,
                "result": {"created": self.created_count, "updated": self.updated_count,
                           "skipped": self.skipped_count, "failed": self.failed_count}}

    @property
    def progress(self) -> int:
        if not self.total_rows:
            return 100 if self.status == RunStatus.COMPLETED else 0
        return min(100, round(100 * self.processed_rows / self.total_rows))


# Subscription forms live in their own module to keep this one readable; importing them here is what
# registers them with the app.
from crm.form_models import FormSubmission, SubscriptionForm  # noqa: E402, F401
from crm.repository_models import (  # noqa: E402, F401
    GitHubUser,
    RepositoryRelease,
    RepositorySnapshot,
    WatchedRepository,
)
from crm.weather_models import CityWeather  # noqa: E402, F401
