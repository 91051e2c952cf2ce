"""Web-push sends: the notification of a campaign and its frozen deliveries, one per browser."""

from django.db import models

from publishing.channel_sends import ChannelDelivery, ChannelSend
from publishing.push.choices import PushDeliveryStatus

__all__ = ["PushDelivery", "PushSend"]


class PushSend(ChannelSend):
    campaign = models.OneToOneField("publishing.Campaign", on_delete=models.CASCADE, related_name="push")
    title = models.CharField(max_length=80, help_text="The notification's first line")
    body = models.CharField(max_length=240, blank=True, help_text="Under the title; browsers cut long text")
    url = models.URLField(blank=True, verbose_name="Link", help_text="Opened when the notification is clicked")
    audience_size = models.PositiveIntegerField(default=0, editable=False, help_text="Browsers frozen at send")

    class Meta(ChannelSend.Meta):
        verbose_name = "push send"

    def __str__(self) -> str:
        return f"Push of {self.campaign}"


class PushDelivery(ChannelDelivery):
    send = models.ForeignKey(PushSend, on_delete=models.CASCADE, related_name="deliveries")
    # Removed when its push service says it is gone, or when the person is erased: the row stays, counted.
    subscription = models.ForeignKey("crm.PushSubscription", null=True, on_delete=models.SET_NULL, related_name="+")
    status = models.CharField(max_length=16, choices=PushDeliveryStatus.choices, default=PushDeliveryStatus.QUEUED,
                              editable=False)

    class Meta(ChannelDelivery.Meta):
        verbose_name = "push delivery"
        verbose_name_plural = "push deliveries"
        constraints = [models.UniqueConstraint(fields=["send", "subscription"], name="publishing_push_delivery_once")]
        indexes = [models.Index(fields=["send", "status"], name="publishing_push_status")]

    def __str__(self) -> str:
        return f"{self.send_id}/{self.subscription_id}: {self.get_status_display()}"
