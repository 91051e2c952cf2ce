from rest_framework import serializers

from aicmo_site.api.fields import DateTimeField, ModelSerializer
from gateways.capabilities import Capability
from gateways.models import ProviderAccount


class ProviderHealthSummarySerializer(serializers.Serializer):
    status = serializers.CharField()
    success_rate = serializers.FloatField(allow_null=True)
    latency_ms = serializers.FloatField(allow_null=True)
    consecutive_failures = serializers.IntegerField()
    breaker_state = serializers.CharField()
    open_until = DateTimeField(allow_null=True)
    open_reason = serializers.CharField(help_text="failures or rate_limit while the breaker is open, else blank")
    last_error = serializers.CharField()
    last_advice = serializers.CharField()
    last_success_at = DateTimeField(allow_null=True)
    last_failure_at = DateTimeField(allow_null=True)


class ProviderAccountSerializer(ModelSerializer):
    """Credentials are write-only: a dict of secret names to values, merged into the stored ones
    (a blank value keeps the old secret). Reads only say which names are set."""

    capability = serializers.ChoiceField(choices=Capability.CHOICES)
    credentials = serializers.DictField(child=serializers.CharField(allow_blank=True), write_only=True, required=False)
    health = ProviderHealthSummarySerializer(read_only=True)

    class Meta:
        model = ProviderAccount
        fields = (
            "id", "capability", "adapter", "name", "priority", "enabled", "base_url", "timeout_seconds",
            "rate_limit_count", "rate_limit_seconds", "settings", "credentials", "credential_names", "channel",
            "health", "created", "updated",
        )
        read_only_fields = ("credential_names", "channel", "created", "updated")
        # Uniqueness and choices are checked by the model's full_clean in the service.
        extra_kwargs = {"name": {"validators": []}}


class ProbeResultSerializer(serializers.Serializer):
    account_id = serializers.IntegerField()
    provider = serializers.CharField()
    ok = serializers.BooleanField()
    detail = serializers.CharField()
    latency_ms = serializers.FloatField(allow_null=True)
    advice = serializers.CharField()
    probed = serializers.BooleanField(
        help_text="False for a placeholder, a manual channel or an adapter that cannot be checked without "
                  "doing real work: it was not called, and is not healthy for it.")
