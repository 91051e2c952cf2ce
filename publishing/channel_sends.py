"""The status of a send to one channel's audience (SMS, web push): shared, as its moves are the same."""

from django.db import models


class ChannelSendStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    SENDING = "sending", "Sending"
    COMPLETED = "completed", "Completed"
    CANCELED = "canceled", "Canceled"


CHANNEL_SEND_TRANSITIONS: dict[str, set[str]] = {
    ChannelSendStatus.DRAFT: {ChannelSendStatus.SENDING, ChannelSendStatus.CANCELED},
    ChannelSendStatus.SENDING: {ChannelSendStatus.COMPLETED, ChannelSendStatus.CANCELED},
    ChannelSendStatus.COMPLETED: set(),
    ChannelSendStatus.CANCELED: set(),
}
CHANNEL_SEND_TERMINAL = frozenset({ChannelSendStatus.COMPLETED, ChannelSendStatus.CANCELED})
