from rest_framework import serializers

from aicmo_site.api.actions import AvailableActionsField
from webhooks.events_catalogue import EVENTS
from webhooks.models import WebhookDelivery, WebhookMessage, WebhookSubscription


class WebhookSubscriptionSerializer(serializers.ModelSerializer):
    events = serializers.ListField(child=serializers.ChoiceField(choices=sorted(EVENTS)), allow_empty=False)
    pending_count = serializers.IntegerField(read_only=True, default=0)
    failed_count = serializers.IntegerField(read_only=True, default=0)
    last_delivered_at = serializers.DateTimeField(read_only=True, allow_null=True, default=None)

    class Meta:
        model = WebhookSubscription
        fields = ("id", "name", "url", "events", "active", "pending_count", "failed_count", "last_delivered_at",
                  "created", "updated")
        read_only_fields = ("created", "updated")


class WebhookSubscriptionCreatedSerializer(WebhookSubscriptionSerializer):
    """The answer to a create or a secret rotation: the only time the signing secret is shown."""

    secret = serializers.CharField(read_only=True, help_text="whsec_…: verify signatures with it. Shown once.")

    class Meta(WebhookSubscriptionSerializer.Meta):
        fields = (*WebhookSubscriptionSerializer.Meta.fields, "secret")


class WebhookDeliverySerializer(serializers.ModelSerializer):
    class Meta:
        model = WebhookDelivery
        fields = ("attempted_at", "status_code", "succeeded", "error", "response_body", "duration_ms")


class WebhookMessageSerializer(serializers.ModelSerializer):
    deliveries = WebhookDeliverySerializer(many=True, read_only=True)
    available_actions = AvailableActionsField()

    class Meta:
        model = WebhookMessage
        fields = ("id", "subscription", "event", "message_id", "body", "status", "attempts", "next_attempt_at",
                  "last_status_code", "last_error", "delivered_at", "created", "deliveries", "available_actions")
