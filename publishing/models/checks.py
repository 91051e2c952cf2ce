"""Which automated checks block approval when they fail: one row per blocking check, chosen by an Admin."""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from publishing.choices import CheckKind, ContentKind


class BlockingCheck(models.Model):
    """A failing check of this kind refuses approval (no row: the check only informs the approver)."""

    key = models.CharField("check", max_length=32, choices=CheckKind.choices, unique=True)
    chosen_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", editable=False
    )
    chosen_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["key"]
        verbose_name = "check that blocks approval"
        verbose_name_plural = "checks that block approval"

    def __str__(self) -> str:
        return CheckKind(self.key).label


class ReadabilityTarget(models.Model):
    """The hardest reading level an Admin accepts for one kind of content (no row: the default in
    publishing.checks.DEFAULT_READABILITY_GRADES)."""

    kind = models.CharField("content kind", max_length=32, choices=ContentKind.choices, unique=True)
    max_grade = models.PositiveSmallIntegerField(
        "highest grade level", validators=[MinValueValidator(1), MaxValueValidator(18)],
        help_text="Flesch-Kincaid grade: the years of schooling a reader needs (8-9 reads easily for most adults).",
    )
    chosen_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", editable=False
    )
    chosen_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["kind"]

    def __str__(self) -> str:
        return f"{ContentKind(self.kind).label}: grade {self.max_grade} or below"


class LinkReport(models.Model):
    """The last link check of a content item: fetching is slow, so a worker does it and the checks read it."""

    class Status(models.TextChoices):
        PENDING = "pending", "Not checked yet"
        DONE = "done", "Checked"

    content = models.OneToOneField("publishing.Content", on_delete=models.CASCADE, related_name="link_report")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING)
    requested_at = models.DateTimeField()
    checked_at = models.DateTimeField(null=True, blank=True)
    results = models.JSONField(
        default=list, blank=True, help_text="One entry per link: url, ok, status, final_url, error."
    )

    def __str__(self) -> str:
        return f"Links of {self.content}"
