"""/api/retention/: the data-retention policies, one per kind of data. Admins only: GET reads them all,
PATCH changes some (all the given ones or none)."""

from django.db import transaction
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from aicmo_site.api.audit import HoldsAdminRole
from aicmo_site.models import InactiveContactAction, RetentionKind
from aicmo_site.retention import DESCRIPTIONS, RETENTION_UNITS, retention_policies, retention_policy_update


class RetentionPolicySerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=RetentionKind.choices)
    label = serializers.CharField(read_only=True, help_text="The kind of data, in words")
    description = serializers.CharField(read_only=True, help_text="What the policy removes and what stays")
    unit = serializers.CharField(read_only=True, help_text="days, months or years: the unit of keep_for")
    enabled = serializers.BooleanField(required=False, help_text="Off: everything of this kind is kept")
    keep_for = serializers.IntegerField(required=False, min_value=1, help_text="How long to keep it, in `unit`")
    action = serializers.ChoiceField(choices=InactiveContactAction.choices, required=False,
                                     help_text="Inactive contacts only: flag (a tag) or erase")
    updated_at = serializers.DateTimeField(read_only=True, allow_null=True)

    def to_representation(self, policy):
        return {"kind": policy.kind, "label": policy.get_kind_display(), "description": DESCRIPTIONS[policy.kind],
                "unit": RETENTION_UNITS[policy.kind][0], "enabled": policy.enabled, "keep_for": policy.keep_for,
                "action": policy.action, "updated_at": policy.updated_at}


class RetentionPoliciesSerializer(serializers.Serializer):
    policies = RetentionPolicySerializer(many=True)


class RetentionView(APIView):
    permission_classes = [HoldsAdminRole]

    @extend_schema(responses=RetentionPoliciesSerializer)
    def get(self, request):
        return Response(RetentionPoliciesSerializer({"policies": retention_policies()}).data)

    @extend_schema(request=RetentionPoliciesSerializer, responses=RetentionPoliciesSerializer)
    def patch(self, request):
        given = RetentionPoliciesSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        with transaction.atomic():
            for change in given.validated_data["policies"]:
                retention_policy_update(**change)
        return Response(RetentionPoliciesSerializer({"policies": retention_policies()}).data)
