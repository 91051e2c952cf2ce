from django.db import models

from publishing.channel_sends import CHANNEL_SEND_TERMINAL, CHANNEL_SEND_TRANSITIONS, ChannelSendStatus

# A send's own status is every channel's (publishing.channel_sends).
PushSendStatus = ChannelSendStatus
PUSH_SEND_TRANSITIONS = CHANNEL_SEND_TRANSITIONS
PUSH_SEND_TERMINAL = CHANNEL_SEND_TERMINAL


class PushDeliveryStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    SENDING = "sending", "Sending"  # marked in its own commit right before the request
    ACCEPTED = "accepted", "Accepted by the push service"
    EXPIRED = "expired", "Subscription gone"
    FAILED = "failed", "Failed"
    # Push services offer no look-up: a message that may have gone is never sent again by itself.
    OUTCOME_UNKNOWN = "outcome_unknown", "Outcome unknown (may have been shown)"
    SKIPPED = "skipped", "Skipped"
    CANCELED = "canceled", "Canceled"


PUSH_DELIVERY_TRANSITIONS: dict[str, set[str]] = {
    PushDeliveryStatus.QUEUED: {PushDeliveryStatus.SENDING, PushDeliveryStatus.SKIPPED, PushDeliveryStatus.CANCELED},
    PushDeliveryStatus.SENDING: {PushDeliveryStatus.ACCEPTED, PushDeliveryStatus.EXPIRED, PushDeliveryStatus.FAILED,
                                 PushDeliveryStatus.OUTCOME_UNKNOWN, PushDeliveryStatus.QUEUED},
    PushDeliveryStatus.ACCEPTED: set(),
    PushDeliveryStatus.EXPIRED: set(),
    PushDeliveryStatus.FAILED: set(),
    PushDeliveryStatus.OUTCOME_UNKNOWN: set(),
    PushDeliveryStatus.SKIPPED: set(),
    PushDeliveryStatus.CANCELED: set(),
}
PUSH_DELIVERY_TERMINAL = frozenset(set(PUSH_DELIVERY_TRANSITIONS) - {PushDeliveryStatus.QUEUED,
                                                                     PushDeliveryStatus.SENDING})
