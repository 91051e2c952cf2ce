from django.conf import settings
from django.db import models


class StatusChange(models.Model):
    """One recorded move of a state machine: who (a person or a part of the system), when, from, to, why."""

    from_status = models.CharField(max_length=32)
    to_status = models.CharField(max_length=32)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                           related_name="+")
    note = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        abstract = True
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.from_status} → {self.to_status}"
