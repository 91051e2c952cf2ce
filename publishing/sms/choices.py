from django.db import models

from publishing.channel_sends import CHANNEL_SEND_TERMINAL, CHANNEL_SEND_TRANSITIONS, ChannelSendStatus

# A send's own status is every channel's (publishing.channel_sends).
SmsSendStatus = ChannelSendStatus
SMS_SEND_TRANSITIONS = CHANNEL_SEND_TRANSITIONS
SMS_SEND_TERMINAL = CHANNEL_SEND_TERMINAL


class SmsDeliveryStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    # Marked, in its own commit, right before the request: from here the message may exist at the provider.
    SENDING = "sending", "Sending"
    ACCEPTED = "accepted", "Accepted by the provider"
    SENT = "sent", "Sent to the carrier"
    DELIVERED = "delivered", "Delivered"
    UNDELIVERED = "undelivered", "Not delivered"
    FAILED = "failed", "Failed"
    NEEDS_CHECKING = "needs_checking", "Needs checking (may have been sent)"
    SKIPPED = "skipped", "Skipped"
    CANCELED = "canceled", "Canceled"


# Provider callbacks can arrive out of order (a late "sent" after "delivered"): a move the table does not
# hold is ignored, so a status only ever moves forward.
SMS_DELIVERY_TRANSITIONS: dict[str, set[str]] = {
    SmsDeliveryStatus.QUEUED: {SmsDeliveryStatus.SENDING, SmsDeliveryStatus.SKIPPED, SmsDeliveryStatus.CANCELED},
    SmsDeliveryStatus.SENDING: {SmsDeliveryStatus.ACCEPTED, SmsDeliveryStatus.FAILED, SmsDeliveryStatus.QUEUED,
                                SmsDeliveryStatus.NEEDS_CHECKING},
    SmsDeliveryStatus.NEEDS_CHECKING: {SmsDeliveryStatus.ACCEPTED, SmsDeliveryStatus.QUEUED,
                                       SmsDeliveryStatus.FAILED},
    SmsDeliveryStatus.ACCEPTED: {SmsDeliveryStatus.SENT, SmsDeliveryStatus.DELIVERED,
                                 SmsDeliveryStatus.UNDELIVERED, SmsDeliveryStatus.FAILED},
    SmsDeliveryStatus.SENT: {SmsDeliveryStatus.DELIVERED, SmsDeliveryStatus.UNDELIVERED, SmsDeliveryStatus.FAILED},
    SmsDeliveryStatus.DELIVERED: set(),
    SmsDeliveryStatus.UNDELIVERED: set(),
    SmsDeliveryStatus.FAILED: set(),
    SmsDeliveryStatus.SKIPPED: set(),
    SmsDeliveryStatus.CANCELED: set(),
}
SMS_DELIVERY_TERMINAL = frozenset({SmsDeliveryStatus.DELIVERED, SmsDeliveryStatus.UNDELIVERED,
                                   SmsDeliveryStatus.FAILED, SmsDeliveryStatus.SKIPPED, SmsDeliveryStatus.CANCELED})
# The provider has the message: what the send's page counts as sent.
SMS_TAKEN = (SmsDeliveryStatus.ACCEPTED, SmsDeliveryStatus.SENT, SmsDeliveryStatus.DELIVERED,
             SmsDeliveryStatus.UNDELIVERED)
