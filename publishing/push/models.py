"""Web-push sends: the notification of a campaign and its frozen deliveries, one per browser."""

from django.conf import settings
from django.db import models

from publishing.push.choices import PushDeliveryStatus, PushSendStatus

__all__ = ["PushDelivery", "PushSend"]


class PushSend(models.Model):
    campaign = models.OneToOneField("publishing.Campaign", on_delete=models.CASCADE, related_name="push")
    title = models.CharField(max_length=80, help_text="The notification's first line")
    body = models.CharField(max_length=240, blank=True, help_text="Under the title; browsers cut long text")
    url = models.URLField(blank=True, verbose_name="Link", help_text="Opened when the notification is clicked")
    status = models.CharField(max_length=12, choices=PushSendStatus.choices, default=PushSendStatus.DRAFT,
                              editable=False, db_index=True)
    audience_size = models.PositiveIntegerField(default=0, editable=False, help_text="Browsers frozen at send")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+", editable=False)
    started_at = models.DateTimeField(null=True, blank=True, editable=False)
    finished_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "push send"

    def __str__(self) -> str:
        return f"Push of {self.campaign}"


class PushDelivery(models.Model):
    send = models.ForeignKey(PushSend, on_delete=models.CASCADE, related_name="deliveries")
    # Removed when its push service says it is gone, or when the person is erased: the row stays, counted.
    subscription = models.ForeignKey("crm.PushSubscription", null=True, on_delete=models.SET_NULL, related_name="+")
    contact = models.ForeignKey("crm.Contact", null=True, on_delete=models.SET_NULL, related_name="+")
    status = models.CharField(max_length=16, choices=PushDeliveryStatus.choices, default=PushDeliveryStatus.QUEUED,
                              editable=False)
    attempts = models.PositiveSmallIntegerField(default=0, editable=False)
    next_attempt_at = models.DateTimeField(null=True, blank=True, editable=False)
    error = models.TextField(blank=True, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        verbose_name = "push delivery"
        verbose_name_plural = "push deliveries"
        constraints = [models.UniqueConstraint(fields=["send", "subscription"], name="publishing_push_delivery_once")]
        indexes = [models.Index(fields=["send", "status"], name="publishing_push_status")]

    def __str__(self) -> str:
        return f"{self.send_id}/{self.subscription_id}: {self.get_status_display()}"
