"""Subscriptions, the outbox of messages owed to them, and the log of every delivery attempt."""

from django.conf import settings
from django.db import models

from gateways import crypto
from webhooks.events_catalogue import EVENT_CHOICES


class MessageStatus(models.TextChoices):
    PENDING = "pending", "Waiting to be delivered"
    DELIVERED = "delivered", "Delivered"
    FAILED = "failed", "Gave up after every retry"


# The outbox sender delivers a message or gives up on it; an Admin who fixed the receiver sends a given-up
# one again. Delivered is final: the receiver has it.
MESSAGE_TRANSITIONS = {
    MessageStatus.PENDING: {MessageStatus.DELIVERED, MessageStatus.FAILED},
    MessageStatus.DELIVERED: set(),
    MessageStatus.FAILED: {MessageStatus.PENDING},
}
MESSAGE_TERMINAL = frozenset({MessageStatus.DELIVERED, MessageStatus.FAILED})


class WebhookSubscription(models.Model):
    name = models.CharField(max_length=120, help_text="Who receives these events, for the delivery log.")
    url = models.URLField(max_length=500, verbose_name="URL", help_text="Where each event is POSTed.")
    events = models.JSONField(default=list, help_text="The event types sent to this URL.")
    secret_encrypted = models.TextField(editable=False)
    active = models.BooleanField(default=True, help_text="Inactive subscriptions receive nothing.")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("name", "pk")
        verbose_name = "webhook subscription"

    def __str__(self) -> str:
        return self.name

    def signing_secret(self) -> str:
        return crypto.decrypt_json(self.secret_encrypted)["secret"]

    def event_labels(self) -> list[str]:
        labels = dict(EVENT_CHOICES)
        return [labels.get(event, event) for event in self.events]


class WebhookOutbox(models.Model):
    """Events emitted together (a send's batch, an import), written as one row in the emitter's transaction:
    the hot paths pay one small insert, and the worker turns the row into a message per subscription."""

    event = models.CharField(max_length=40, choices=EVENT_CHOICES)
    payloads = models.JSONField()
    emitted_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("pk",)
        verbose_name = "webhook outbox batch"
        verbose_name_plural = "webhook outbox batches"

    def __str__(self) -> str:
        return f"{len(self.payloads)} × {self.event}"


class WebhookMessage(models.Model):
    """One event owed to one subscription. Its message_id is the webhook-id header, the same on every
    retry, so a receiver drops a message it already has."""

    subscription = models.ForeignKey(WebhookSubscription, on_delete=models.CASCADE, related_name="messages")
    event = models.CharField(max_length=40, choices=EVENT_CHOICES, db_index=True)
    message_id = models.CharField(max_length=40, unique=True)
    body = models.JSONField()
    status = models.CharField(max_length=12, choices=MessageStatus.choices, default=MessageStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("-created", "-pk")
        verbose_name = "webhook message"
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="webhooks_message_due")]

    def __str__(self) -> str:
        return f"{self.event} → {self.subscription_id} ({self.status})"


class WebhookDelivery(models.Model):
    """One POST of a message and what the receiver answered."""

    message = models.ForeignKey(WebhookMessage, on_delete=models.CASCADE, related_name="deliveries")
    attempted_at = models.DateTimeField(auto_now_add=True)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.TextField(blank=True, help_text="The start of the receiver's answer.")
    error = models.TextField(blank=True)
    succeeded = models.BooleanField(default=False)
    duration_ms = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ("-attempted_at", "-pk")
        verbose_name = "webhook delivery"
        verbose_name_plural = "webhook deliveries"

    def __str__(self) -> str:
        return f"{self.message_id} at {self.attempted_at:%Y-%m-%d %H:%M:%S}: {self.status_code or self.error}"
