"""The site's own table: who this installation is. The module also lets post_migrate reach this app."""

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.db import models


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
