"""The site's own tables: who this installation is, background runs, data-retention policies. The module
also lets post_migrate reach this app."""

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q


class Installation(models.Model):
    """One row, made at the first migrate and never regenerated: a staging copy restored from
    production's database keeps production's identifier, a fresh installation gets its own, even when
    both share a SECRET_KEY. Message-IDs carry it, so two installations never write the same one."""

    identifier = models.CharField(max_length=32, unique=True, editable=False,
                                  help_text="Random, written once at the first migrate.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "installation"

    def __str__(self) -> str:
        return self.identifier


class StatusChange(models.Model):
    """The audit row of a workflow whose app keeps no history table of its own (see
    aicmo_site.transitions): who moved what, from and to which status, when, through what, why. A
    set-based move of many rows is one row with no object and the count."""

    content_type = models.ForeignKey("contenttypes.ContentType", on_delete=models.CASCADE, related_name="+")
    object_id = models.PositiveBigIntegerField(null=True, blank=True,
                                               help_text="Empty for a move of many rows at once.")
    subject = GenericForeignKey("content_type", "object_id")
    field = models.CharField(max_length=40, default="status")
    from_status = models.CharField(max_length=32)
    to_status = models.CharField(max_length=32)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                           related_name="+")
    via = models.CharField(max_length=12, blank=True, help_text="Page, API, admin, command or worker.")
    note = models.TextField(blank=True)
    count = models.PositiveIntegerField(default=1, help_text="How many rows this move changed.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["content_type", "object_id", "created_at"], name="status_change_subject")]

    def __str__(self) -> str:
        return f"{self.content_type_id}:{self.object_id} {self.from_status} → {self.to_status}"


class RunStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    COMPLETED = "completed", "Completed"
    FAILED = "failed", "Failed"
    CANCELED = "canceled", "Canceled"


RUN_TERMINAL = frozenset({RunStatus.COMPLETED, RunStatus.FAILED, RunStatus.CANCELED})


class RunKind(models.TextChoices):
    """Every long piece of work a person starts or waits for; one word a marketer recognises."""

    IMPORT = "import", "Contact import"
    ENRICHMENT = "enrichment", "Enrichment"
    EXPORT = "export", "Export"
    AIRTABLE_SYNC = "airtable_sync", "Airtable sync"
    RENDITIONS = "renditions", "Image renditions"
    ROLLUP_REBUILD = "rollup_rebuild", "Analytics roll-up rebuild"
    SCORE_RECOMPUTE = "score_recompute", "Contact score recompute"
    STRIPE_BACKFILL = "stripe_backfill", "Stripe backfill"
    STARGAZER_BACKFILL = "stargazer_backfill", "GitHub stargazers backfill"
    RETENTION = "retention", "Data retention"


# Kinds that rework whole tables: one open run of each at a time.
ONE_AT_A_TIME = (RunKind.ROLLUP_REBUILD, RunKind.SCORE_RECOMPUTE, RunKind.RETENTION)


class BackgroundRun(models.Model):
    """The one row every long piece of work records (NetBox's Job): who asked, its status and progress,
    when it ran, what it produced and why it stopped. Pages and the API show this row, never the queue's
    task id. Status moves only through `aicmo_site.runs.run_transition`."""

    kind = models.CharField(max_length=20, choices=RunKind.choices, db_index=True)
    label = models.CharField(max_length=200, blank=True, help_text="What the run is about, in the marketer's words")
    status = models.CharField(max_length=12, choices=RunStatus.choices, default=RunStatus.QUEUED, db_index=True)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="background_runs", verbose_name="asked by")
    done = models.PositiveIntegerField(default=0, help_text="Units of work finished (rows, contacts, images)")
    total = models.PositiveIntegerField(default=0, help_text="Units of work expected; 0 while unknown")
    result = models.JSONField(default=dict, blank=True, help_text="What the run reported: counts and the like")
    link = models.CharField(max_length=300, blank=True, help_text="The page of what the run is about or produced")
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    progressed_at = models.DateTimeField(
        null=True, blank=True, help_text="When the run last moved forward; a run still open long after is stuck.")

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "created_at"], name="aicmo_run_open_time")]
        constraints = [
            # A second rebuild of the same whole tables would only redo (and race) the first one.
            models.UniqueConstraint(
                fields=["kind"], name="aicmo_run_one_open_rebuild",
                condition=Q(kind__in=ONE_AT_A_TIME) & ~Q(status__in=RUN_TERMINAL),
                violation_error_message="This kind of work is already under way.",
            ),
        ]
        verbose_name = "background run"

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.pk} ({self.status})"

    @property
    def is_open(self) -> bool:
        return self.status not in RUN_TERMINAL

    @property
    def progress(self) -> int | None:
        """Percent done; None while the total is unknown (shown as such, never as 0 % or 100 %)."""
        if self.status == RunStatus.COMPLETED:
            return 100
        if not self.total:
            return None
        return min(100, round(100 * self.done / self.total))

    @property
    def result_figures(self) -> list[tuple[str, str]]:
        """The result for a person: names in words, a list shown by how many it holds."""
        figures = []
        for key, value in (self.result or {}).items():
            if isinstance(value, bool):
                shown = "yes" if value else "no"
            elif isinstance(value, list | dict):
                shown = str(len(value))
            else:
                shown = "—" if value in (None, "") else str(value)
            figures.append((key.replace("_", " ").capitalize(), shown))
        return figures


class RetentionKind(models.TextChoices):
    """Every kind of data an Admin may set a retention policy for; each app that owns the data applies
    its own kinds (its `retention.py`, found through aicmo_site.registry)."""

    ENGAGEMENT_EVENTS = "engagement_events", "Raw engagement events"
    EMAIL_DELIVERIES = "email_deliveries", "Details of email deliveries"
    UNCONFIRMED_CONTACTS = "unconfirmed_contacts", "Unconfirmed double opt-in contacts"
    INACTIVE_CONTACTS = "inactive_contacts", "Inactive contacts"
    IMPORT_FILES = "import_files", "Import files and error reports"
    AUDIT_ENTRIES = "audit_entries", "Audit log entries"


class InactiveContactAction(models.TextChoices):
    FLAG = "flag", "Flag for review"
    ERASE = "erase", "Erase"


class RetentionPolicy(models.Model):
    """How long one kind of data is kept. A policy is off until an Admin turns it on: the safe default
    keeps everything. The unit of `keep_for` is the kind's own (aicmo_site.retention.RETENTION_UNITS)."""

    kind = models.CharField(max_length=30, choices=RetentionKind.choices, unique=True)
    enabled = models.BooleanField(default=False, verbose_name="on",
                                  help_text="Off: everything of this kind is kept, however old.")
    keep_for = models.PositiveIntegerField(validators=[MinValueValidator(1)],
                                           help_text="How long to keep it, in the unit of its kind.")
    action = models.CharField(max_length=10, choices=InactiveContactAction.choices, default=InactiveContactAction.FLAG,
                              help_text="Inactive contacts only: flag them for review (a tag) or erase them.")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["kind"]
        verbose_name = "retention policy"
        verbose_name_plural = "retention policies"

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {'on' if self.enabled else 'off'}"
