from rest_framework import serializers

from alerts.models import Alert, AlertChannel


class AlertSerializer(serializers.ModelSerializer):
    notices_sent = serializers.IntegerField(read_only=True, default=0)

    class Meta:
        model = Alert
        fields = ("id", "rule", "subject", "status", "title", "advice", "value", "threshold", "opened_at",
                  "last_seen_at", "resolved_at", "notices_sent")
        read_only_fields = fields


class AlertChannelSerializer(serializers.ModelSerializer):
    class Meta:
        model = AlertChannel
        fields = ("id", "name", "kind", "target", "repeat_minutes", "active", "created")
        read_only_fields = ("created",)


class AlertRuleSerializer(serializers.Serializer):
    key = serializers.CharField(read_only=True)
    label = serializers.CharField(read_only=True)
    unit = serializers.CharField(read_only=True)
    default = serializers.FloatField(read_only=True)
    enabled = serializers.BooleanField()
    threshold = serializers.FloatField(min_value=0)
