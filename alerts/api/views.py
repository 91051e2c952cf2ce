from drf_spectacular.utils import extend_schema
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from alerts import selectors, services
from alerts.api.serializers import AlertChannelSerializer, AlertRuleSerializer, AlertSerializer
from alerts.models import Alert, AlertChannel
from webhooks.api.views import IsAdminRole


class AlertViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Open alerts and those resolved in the last week; `rules` lists thresholds, Admins change them."""

    serializer_class = AlertSerializer
    queryset = Alert.objects.none()
    filterset_fields = ("status", "rule")

    def get_queryset(self):
        return selectors.alert_list()

    @extend_schema(responses=AlertRuleSerializer(many=True))
    @action(detail=False, methods=["get"], pagination_class=None)
    def rules(self, request):
        return Response(AlertRuleSerializer(selectors.rule_rows(), many=True).data)

    @extend_schema(request=AlertRuleSerializer, responses=AlertRuleSerializer)
    @action(detail=False, methods=["post"], url_path="rules/<slug:key>", permission_classes=[IsAdminRole])
    def rule_update(self, request, key=None):
        serializer = AlertRuleSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.alert_rule_update(key=key, **serializer.validated_data)
        return Response(AlertRuleSerializer(next(row for row in selectors.rule_rows() if row["key"] == key)).data)


class AlertChannelViewSet(viewsets.ModelViewSet):
    """Who hears about alerts. Admins only: a Slack or Discord URL is a secret."""

    serializer_class = AlertChannelSerializer
    permission_classes = [IsAdminRole]
    queryset = AlertChannel.objects.order_by("name", "pk")

    def perform_create(self, serializer):
        serializer.instance = services.alert_channel_create(**serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = services.alert_channel_update(channel=serializer.instance, **serializer.validated_data)

    def perform_destroy(self, instance):
        services.alert_channel_delete(channel=instance)
