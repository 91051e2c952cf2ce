"""Text-message sends: the SMS of a campaign and its frozen deliveries, one per contact."""

from django.db import models
from django.db.models import Q

from publishing.channel_sends import ChannelDelivery, ChannelSend
from publishing.sms.choices import SmsDeliveryStatus

__all__ = ["SmsDelivery", "SmsSend"]


class SmsSend(ChannelSend):
    campaign = models.OneToOneField("publishing.Campaign", on_delete=models.CASCADE, related_name="sms")
    body = models.TextField(help_text="The message as sent to everyone; its segments are counted in the editor")
    audience_size = models.PositiveIntegerField(default=0, editable=False,
                                                help_text="Deliveries frozen at send: contacts who opted in")
    left_out = models.PositiveIntegerField(default=0, editable=False,
                                           help_text="Picked but not texted: no consent or no international number")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta(ChannelSend.Meta):
        verbose_name = "SMS send"

    def __str__(self) -> str:
        return f"SMS of {self.campaign}"


class SmsDelivery(ChannelDelivery):
    send = models.ForeignKey(SmsSend, on_delete=models.CASCADE, related_name="deliveries")
    to = models.CharField(max_length=16, help_text="E.164, frozen at send")
    status = models.CharField(max_length=16, choices=SmsDeliveryStatus.choices, default=SmsDeliveryStatus.QUEUED,
                              editable=False)
    first_attempt_at = models.DateTimeField(null=True, blank=True, editable=False,
                                            help_text="When the first request that may have made it began")
    message_id = models.CharField(max_length=64, blank=True, editable=False, help_text="The provider's message id")
    provider = models.CharField(max_length=100, blank=True, editable=False, help_text="The account that took it")
    provider_status = models.CharField(max_length=20, blank=True, editable=False)
    segments = models.PositiveSmallIntegerField(default=0, editable=False)

    class Meta(ChannelDelivery.Meta):
        verbose_name = "SMS delivery"
        verbose_name_plural = "SMS deliveries"
        constraints = [
            models.UniqueConstraint(fields=["send", "to"], name="publishing_sms_delivery_once"),
            models.UniqueConstraint(fields=["message_id"], condition=~Q(message_id=""),
                                    name="publishing_sms_delivery_message"),
        ]
        indexes = [models.Index(fields=["send", "status"], name="publishing_sms_delivery_status")]

    def __str__(self) -> str:
        return f"{self.to}: {self.get_status_display()}"
