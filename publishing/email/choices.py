"""Statuses of email sending, each with its allowed transitions in one table beside it."""

from django.db import models


class SendStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    SENDING = "sending", "Sending"
    PAUSED = "paused", "Paused"
    COMPLETED = "completed", "Completed"
    CANCELED = "canceled", "Canceled"


SEND_TRANSITIONS: dict[str, set[str]] = {
    SendStatus.DRAFT: {SendStatus.SENDING, SendStatus.CANCELED},
    SendStatus.SENDING: {SendStatus.PAUSED, SendStatus.COMPLETED, SendStatus.CANCELED},
    SendStatus.PAUSED: {SendStatus.SENDING, SendStatus.CANCELED},
    SendStatus.COMPLETED: set(),
    SendStatus.CANCELED: set(),
}
SEND_TERMINAL = frozenset({SendStatus.COMPLETED, SendStatus.CANCELED})


class DeliveryStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"
    OUTCOME_UNKNOWN = "outcome_unknown", "Outcome unknown"
    CANCELED = "canceled", "Canceled"
    SKIPPED = "skipped", "Skipped"


# Deliveries still owed a send: a campaign is never complete while one exists.
DELIVERY_UNSENT = (DeliveryStatus.QUEUED, DeliveryStatus.SENDING)
DELIVERY_TERMINAL = frozenset({DeliveryStatus.SENT, DeliveryStatus.FAILED, DeliveryStatus.OUTCOME_UNKNOWN,
                               DeliveryStatus.CANCELED, DeliveryStatus.SKIPPED})


class ABMetric(models.TextChoices):
    OPEN_RATE = "open_rate", "Open rate"
    CLICK_RATE = "click_rate", "Click rate"


class ABStatus(models.TextChoices):
    TESTING = "testing", "Testing"
    DECIDED = "decided", "Winner chosen"
    CANCELED = "canceled", "Canceled"


AB_TRANSITIONS: dict[str, set[str]] = {
    ABStatus.TESTING: {ABStatus.DECIDED, ABStatus.CANCELED},
    ABStatus.DECIDED: set(),
    ABStatus.CANCELED: set(),
}
AB_TERMINAL = frozenset({ABStatus.DECIDED, ABStatus.CANCELED})


class InboundEventKind(models.TextChoices):
    DELIVERED = "delivered", "Delivered"
    BOUNCE = "bounce", "Bounce"
    COMPLAINT = "complaint", "Complaint"
    REPLY = "reply", "Reply"
    AUTO_REPLY = "auto-reply", "Auto-reply (never engagement)"


class TemplateFormat(models.TextChoices):
    """How a template's or layout's body is written: HTML as sent, or MJML compiled to HTML."""

    HTML = "html", "HTML"
    MJML = "mjml", "MJML (responsive, compiled to HTML)"


class TrackingHitKind(models.TextChoices):
    OPEN = "open", "Open"
    CLICK = "click", "Click"
