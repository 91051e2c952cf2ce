"""SMS and web-push sends over the API: /api/sms-sends/ and /api/push-sends/.

Both have the same shape (publishing.channel_sends): create a send for an audience and a message, preview
who it reaches (and, for SMS, how many segments the text takes), start, cancel, list with each send's
delivery counts by status, and page through one send's deliveries, filtered by status. Every change is a
service call; the serializers only parse and show.
"""

from dataclasses import asdict

from django.db.models import Count, Q
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from aicmo_site.api.actions import AvailableActionsField
from aicmo_site.api.fields import ModelSerializer
from aicmo_site.api.pagination import StandardPagination
from publishing.api.serializers import AudienceSerializer
from publishing.push import services as push
from publishing.push.choices import PushDeliveryStatus
from publishing.push.models import PushDelivery, PushSend
from publishing.sms import services as sms
from publishing.sms.choices import SmsDeliveryStatus
from publishing.sms.models import SmsDelivery, SmsSend
from publishing.sms.segments import sms_length


def _count_name(status: str) -> str:
    return f"deliveries_{status}"


def with_delivery_counts(queryset, statuses):
    """Each send with how many of its deliveries are in each status: one grouped query for a whole page."""
    return queryset.select_related("campaign").annotate(**{
        _count_name(value): Count("deliveries", filter=Q(deliveries__status=value)) for value in statuses})


@extend_schema_field({"type": "object", "additionalProperties": {"type": "integer"},
                      "description": "Deliveries in each status"})
class DeliveryCountsField(serializers.Field):
    def __init__(self, statuses, **kwargs):
        self.statuses = statuses
        super().__init__(read_only=True, source="*", **kwargs)

    def to_representation(self, send) -> dict[str, int]:
        return {value: getattr(send, _count_name(value), 0) for value in self.statuses}


class AudienceInputSerializer(AudienceSerializer):
    def validate(self, attrs):
        if not any(attrs.values()):
            raise serializers.ValidationError("Pick the audience: segments, lists, tags, domains or contacts.")
        return attrs


class SmsLengthSerializer(serializers.Serializer):
    encoding = serializers.ChoiceField(choices=["GSM-7", "UCS-2"])
    units = serializers.IntegerField(help_text="Septets for GSM-7, UTF-16 code units for UCS-2")
    segments = serializers.IntegerField(help_text="Messages the carrier counts and bills")
    per_segment = serializers.IntegerField(help_text="What one segment holds at this length (160/153 or 70/67)")
    non_gsm = serializers.ListField(child=serializers.CharField(), help_text="The characters that forced UCS-2")


class SmsSendSerializer(ModelSerializer):
    campaign_name = serializers.CharField(source="campaign.name", read_only=True)
    length = serializers.SerializerMethodField()
    counts = DeliveryCountsField(SmsDeliveryStatus.values)
    available_actions = AvailableActionsField()

    class Meta:
        model = SmsSend
        fields = ["id", "campaign", "campaign_name", "body", "length", "status", "available_actions",
                  "audience_size", "left_out", "counts", "requested_by", "started_at", "finished_at", "created_at"]
        read_only_fields = fields

    @extend_schema_field(SmsLengthSerializer)
    def get_length(self, send) -> dict:
        return asdict(sms_length(send.body))


class SmsSendInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200, help_text="The campaign this send makes")
    audience = AudienceInputSerializer()
    body = serializers.CharField(max_length=1600, help_text="Plain text, up to 10 segments")


class SmsPreviewInputSerializer(serializers.Serializer):
    audience = AudienceInputSerializer(required=False)
    body = serializers.CharField(max_length=1600, required=False, allow_blank=True, trim_whitespace=False)


class SmsAudienceSizeSerializer(serializers.Serializer):
    picked = serializers.IntegerField()
    textable = serializers.IntegerField(help_text="Distinct opted-in numbers: the messages that would go")
    left_out = serializers.IntegerField()


class SmsPreviewSerializer(serializers.Serializer):
    length = SmsLengthSerializer(required=False)
    audience = SmsAudienceSizeSerializer(required=False)


class SmsDeliverySerializer(ModelSerializer):
    class Meta:
        model = SmsDelivery
        fields = ["id", "contact", "to", "status", "attempts", "next_attempt_at", "message_id", "provider",
                  "provider_status", "segments", "error", "updated_at"]
        read_only_fields = fields


class PushSendSerializer(ModelSerializer):
    campaign_name = serializers.CharField(source="campaign.name", read_only=True)
    # Empty when the notification opens nothing: not a URI, so not declared as one.
    url = serializers.CharField(read_only=True, help_text="Opened when the notification is clicked; empty for none")
    counts = DeliveryCountsField(PushDeliveryStatus.values)
    available_actions = AvailableActionsField()

    class Meta:
        model = PushSend
        fields = ["id", "campaign", "campaign_name", "title", "body", "url", "status", "available_actions",
                  "audience_size", "counts", "requested_by", "started_at", "finished_at", "created_at"]
        read_only_fields = fields


class PushSendInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200, help_text="The campaign this send makes")
    audience = AudienceInputSerializer()
    title = serializers.CharField(max_length=80)
    body = serializers.CharField(max_length=240, required=False, default="", allow_blank=True)
    url = serializers.URLField(max_length=200, required=False, default="", allow_blank=True)


class PushPreviewInputSerializer(serializers.Serializer):
    audience = AudienceInputSerializer()


class PushAudienceSizeSerializer(serializers.Serializer):
    picked = serializers.IntegerField()
    browsers = serializers.IntegerField(help_text="Subscribed browsers: the notifications that would go")
    reached = serializers.IntegerField(help_text="People with at least one subscribed browser")


class PushPreviewSerializer(serializers.Serializer):
    audience = PushAudienceSizeSerializer()


class PushDeliverySerializer(ModelSerializer):
    class Meta:
        model = PushDelivery
        fields = ["id", "contact", "subscription", "status", "attempts", "next_attempt_at", "error", "updated_at"]
        read_only_fields = fields


class ChannelSendViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """What every channel's send offers; a subclass names its model, serializers and services."""

    filterset_fields = ["status"]
    ordering_fields = ["created_at", "started_at", "status"]
    delivery_statuses: type
    delivery_serializer_class: type
    input_serializer_class: type
    start_service = cancel_service = None

    def get_queryset(self):
        return with_delivery_counts(self.serializer_class.Meta.model.objects.order_by("-created_at", "-id"),
                                    self.delivery_statuses.values)

    def _shown(self, send, code=status.HTTP_200_OK):
        return Response(self.get_serializer(self.get_queryset().get(pk=send.pk)).data, status=code)

    def create(self, request, *args, **kwargs):
        data = self.input_serializer_class(data=request.data)
        data.is_valid(raise_exception=True)
        return self._shown(self.plan(by=request.user, **data.validated_data), status.HTTP_201_CREATED)

    def plan(self, *, by, **data):
        raise NotImplementedError

    @extend_schema(request=None)
    @action(detail=True, methods=["post"])
    def start(self, request, pk=None):
        return self._shown(type(self).start_service(send=self.get_object(), by=request.user))

    @extend_schema(request=None)
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        return self._shown(type(self).cancel_service(send=self.get_object(), by=request.user))

    def _deliveries(self, request):
        send = self.get_object()
        wanted = request.query_params.getlist("status")
        unknown = [value for value in wanted if value not in self.delivery_statuses.values]
        if unknown:
            raise serializers.ValidationError({"status": [
                f"Not a delivery status: {', '.join(unknown)}. One of: {', '.join(self.delivery_statuses.values)}."]})
        deliveries = send.deliveries.order_by("id")
        if wanted:
            deliveries = deliveries.filter(status__in=wanted)
        page = self.paginate_queryset(deliveries)
        return self.get_paginated_response(self.delivery_serializer_class(page, many=True).data)


def _deliveries_action(serializer, statuses):
    """One send's deliveries, paginated; the send list's own filters do not apply to them."""
    return lambda view: extend_schema(responses=serializer(many=True), parameters=[OpenApiParameter(
        "status", OpenApiTypes.STR, many=True, enum=statuses.values,
        description="Only deliveries in these statuses (repeatable)")])(
        action(detail=True, methods=["get"], filter_backends=[], pagination_class=StandardPagination)(view))


_SMS_CHANGE, _SMS_VIEW = ["publishing.change_smssend"], ["publishing.view_smssend"]


class SmsSendViewSet(ChannelSendViewSet):
    """SMS sends. Filters: status. POST creates a send (and its campaign) for an audience and a text."""

    serializer_class = SmsSendSerializer
    input_serializer_class = SmsSendInputSerializer
    delivery_serializer_class = SmsDeliverySerializer
    delivery_statuses = SmsDeliveryStatus
    start_service, cancel_service = sms.sms_send_start, sms.sms_send_cancel
    action_permissions = {"start": _SMS_CHANGE, "cancel": _SMS_CHANGE, "preview": _SMS_VIEW,
                          "deliveries": _SMS_VIEW}

    def plan(self, *, by, **data):
        return sms.sms_send_plan(by=by, **data)

    @extend_schema(request=SmsSendInputSerializer, responses={201: SmsSendSerializer})
    def create(self, request, *args, **kwargs):
        return super().create(request, *args, **kwargs)

    @extend_schema(request=SmsPreviewInputSerializer, responses=SmsPreviewSerializer)
    @action(detail=False, methods=["post"])
    def preview(self, request):
        """The text's GSM-7 or UCS-2 segments and how many of the audience would get it, before creating."""
        data = SmsPreviewInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        answer = {}
        if "body" in data.validated_data:
            answer["length"] = asdict(sms_length(data.validated_data["body"]))
        if "audience" in data.validated_data:
            answer["audience"] = sms.sms_audience_size(data.validated_data["audience"])
        return Response(answer)

    @_deliveries_action(SmsDeliverySerializer, SmsDeliveryStatus)
    def deliveries(self, request, pk=None):
        return self._deliveries(request)


_PUSH_CHANGE, _PUSH_VIEW = ["publishing.change_pushsend"], ["publishing.view_pushsend"]


class PushSendViewSet(ChannelSendViewSet):
    """Web-push sends. Filters: status. POST creates a send (and its campaign) for an audience and a
    notification."""

    serializer_class = PushSendSerializer
    input_serializer_class = PushSendInputSerializer
    delivery_serializer_class = PushDeliverySerializer
    delivery_statuses = PushDeliveryStatus
    start_service, cancel_service = push.push_send_start, push.push_send_cancel
    action_permissions = {"start": _PUSH_CHANGE, "cancel": _PUSH_CHANGE, "preview": _PUSH_VIEW,
                          "deliveries": _PUSH_VIEW}

    def plan(self, *, by, **data):
        return push.push_send_plan(by=by, **data)

    @extend_schema(request=PushSendInputSerializer, responses={201: PushSendSerializer})
    def create(self, request, *args, **kwargs):
        return super().create(request, *args, **kwargs)

    @extend_schema(request=PushPreviewInputSerializer, responses=PushPreviewSerializer)
    @action(detail=False, methods=["post"])
    def preview(self, request):
        """How many browsers of the audience are subscribed, before creating."""
        data = PushPreviewInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return Response({"audience": push.push_audience_size(data.validated_data["audience"])})

    @_deliveries_action(PushDeliverySerializer, PushDeliveryStatus)
    def deliveries(self, request, pk=None):
        return self._deliveries(request)
