"""Thin viewsets: reads through selectors and FilterSets, every change a POST calling a service."""

from dataclasses import asdict

from django.db.models import Prefetch
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from publishing.email import selectors, services
from publishing.email.api import serializers as s
from publishing.email.brand import brand_kit
from publishing.email.filters import DeliveryFilterSet, EmailCampaignFilterSet, EmailTemplateFilterSet
from publishing.email.models import BrandKit, EmailBlock, EmailLayout
from publishing.email.services import ab_tests
from publishing.email.services.brand import (
    brand_kit_update,
    email_layout_create,
    email_layout_delete,
    email_layout_update,
)

_CHANGE = ["publishing.change_emailcampaign"]
_VIEW = ["publishing.view_emailcampaign"]


class EmailTemplateViewSet(mixins.CreateModelMixin, mixins.UpdateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Email templates. Filters: q (name); ordering by name, updated_at."""

    serializer_class = s.EmailTemplateSerializer
    filterset_class = EmailTemplateFilterSet
    search_fields = ["name", "subject"]
    ordering_fields = ["name", "updated_at", "created_at"]
    action_permissions = {"preview": ["publishing.view_emailtemplate"],
                          "test_send": ["publishing.change_emailtemplate"]}

    def get_queryset(self):
        # Each template with its blocks and their audiences: four queries per page, not per template.
        return selectors.email_template_list().prefetch_related(Prefetch("blocks", queryset=_blocks()))

    def perform_create(self, serializer):
        serializer.instance = services.email_template_create(by=self.request.user, **serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = services.email_template_update(template=serializer.instance,
                                                             **serializer.validated_data)

    @extend_schema(request=s.PreviewInputSerializer, responses=s.RenderedSerializer)
    @action(detail=True, methods=["post"])
    def preview(self, request, pk=None):
        data = s.PreviewInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        rendered = services.email_template_preview(template=self.get_object(), **data.validated_data)
        return Response(asdict(rendered))

    @extend_schema(request=s.TestSendInputSerializer)
    @action(detail=True, methods=["post"], url_path="test-send")
    def test_send(self, request, pk=None):
        data = s.TestSendInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        ids = services.email_template_test_send(template=self.get_object(), **data.validated_data)
        return Response({"sent": len(ids), "message_ids": ids})


class EmailLayoutViewSet(viewsets.ModelViewSet):
    """Stored base layouts templates extend with named {% block %} places. Filters: format."""

    queryset = EmailLayout.objects.all()
    serializer_class = s.EmailLayoutSerializer
    filterset_fields = ["format"]
    search_fields = ["name"]
    ordering_fields = ["name", "updated_at"]

    def perform_create(self, serializer):
        serializer.instance = email_layout_create(by=self.request.user, **serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = email_layout_update(layout=serializer.instance, **serializer.validated_data)

    def perform_destroy(self, instance):
        email_layout_delete(layout=instance)


class BrandKitView(generics.RetrieveUpdateAPIView):
    """The brand kit every email template reads as brand.* variables (one per installation)."""

    queryset = BrandKit.objects.all()
    serializer_class = s.BrandKitSerializer

    def get_object(self):
        return brand_kit()

    def perform_update(self, serializer):
        serializer.instance = brand_kit_update(by=self.request.user, **serializer.validated_data)


def _blocks():
    return EmailBlock.objects.prefetch_related("tags", "segments", "topics")


class EmailBlockViewSet(viewsets.ModelViewSet):
    """Dynamic blocks of email templates. Filters: template, slot."""

    filterset_fields = ["template", "slot"]
    ordering_fields = ["position", "id"]

    def get_queryset(self):
        return _blocks()

    def get_serializer_class(self):
        return s.EmailBlockUpdateSerializer if self.action in ("update", "partial_update") else s.EmailBlockSerializer

    def perform_create(self, serializer):
        serializer.instance = services.email_block_create(**serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = services.email_block_update(block=serializer.instance, **serializer.validated_data)

    def perform_destroy(self, instance):
        services.email_block_delete(block=instance)


class EmailCampaignViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """The email side of campaigns, addressed by the campaign's id: /api/email-campaigns/{campaign_id}/."""

    serializer_class = s.EmailCampaignSerializer
    filterset_class = EmailCampaignFilterSet
    lookup_field = "campaign_id"
    ordering_fields = ["created_at", "started_at", "status"]
    action_permissions = {"send": _CHANGE, "pause": _CHANGE, "resume": _CHANGE, "cancel": _CHANGE,
                          "test_send": _CHANGE, "preview": _VIEW, "progress": _VIEW, "checklist": _VIEW}

    def get_queryset(self):
        return selectors.email_campaign_list()

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        serializer.instance = services.email_campaign_set_up(campaign=data.pop("campaign"),
                                                             template=data.pop("template"), by=self.request.user,
                                                             **data)

    def _changed(self, service, request):
        data = s.SendNoteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        kwargs = {"note": data.validated_data["note"]} if service is not services.email_campaign_send else {}
        email_campaign = service(email_campaign=self.get_object(), by=request.user, **kwargs)
        return Response(self.get_serializer(email_campaign).data)

    @extend_schema(request=None)
    @action(detail=True, methods=["post"])
    def send(self, request, campaign_id=None):
        return self._changed(services.email_campaign_send, request)

    @extend_schema(request=s.SendNoteSerializer)
    @action(detail=True, methods=["post"])
    def pause(self, request, campaign_id=None):
        return self._changed(services.email_campaign_pause, request)

    @extend_schema(request=s.SendNoteSerializer)
    @action(detail=True, methods=["post"])
    def resume(self, request, campaign_id=None):
        return self._changed(services.email_campaign_resume, request)

    @extend_schema(request=s.SendNoteSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request, campaign_id=None):
        return self._changed(services.email_campaign_cancel, request)

    @extend_schema(responses={200: OpenApiResponse(
        response={"type": "object", "additionalProperties": True},
        description="status, with the counts of the send (audience, sent, delivered, failed…)")})
    @action(detail=True, methods=["get"])
    def progress(self, request, campaign_id=None):
        email_campaign = self.get_object()
        return Response({"status": email_campaign.status,
                         **selectors.email_campaign_progress(email_campaign).as_dict()})

    @extend_schema(responses={200: OpenApiResponse(
        response={"type": "array", "items": {"type": "object", "additionalProperties": True}},
        description="Each check before sending: key, ok, detail")})
    @action(detail=True, methods=["get"])
    def checklist(self, request, campaign_id=None):
        return Response(services.email_campaign_checklist(self.get_object()))

    @extend_schema(request=s.PreviewInputSerializer, responses=s.RenderedSerializer)
    @action(detail=True, methods=["post"])
    def preview(self, request, campaign_id=None):
        data = s.PreviewInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        email_campaign = self.get_object()
        rendered = services.email_template_preview(template=email_campaign.template,
                                                   campaign_name=email_campaign.campaign.name, **data.validated_data)
        return Response(asdict(rendered))

    @extend_schema(request=s.TestSendInputSerializer)
    @action(detail=True, methods=["post"], url_path="test-send")
    def test_send(self, request, campaign_id=None):
        data = s.TestSendInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        email_campaign = self.get_object()
        ids = services.email_template_test_send(template=email_campaign.template, from_email=email_campaign.sender,
                                                reply_to=email_campaign.reply_to, **data.validated_data)
        return Response({"sent": len(ids), "message_ids": ids})


class DeliveryViewSet(viewsets.ReadOnlyModelViewSet):
    """Deliveries. Filters: campaign, status (repeatable), contact, email, opened, clicked, variant."""

    serializer_class = s.DeliverySerializer
    filterset_class = DeliveryFilterSet
    ordering_fields = ["id", "sent_at", "status", "open_count", "click_count"]

    def get_queryset(self):
        return selectors.delivery_list()


class ABTestViewSet(viewsets.ReadOnlyModelViewSet):
    """A/B tests with each variant's rate, confidence interval and p-value (in `results`)."""

    serializer_class = s.ABTestSerializer
    filterset_fields = ["status", "email_campaign"]
    action_permissions = {"create": _CHANGE, "pick_winner": _CHANGE, "results": _VIEW}

    def get_queryset(self):
        return selectors.ab_test_list()

    @extend_schema(request=s.ABTestInputSerializer, responses=s.ABTestSerializer)
    def create(self, request):
        data = s.ABTestInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        test = ab_tests.ab_test_create(**data.validated_data)
        return Response(self.get_serializer(selectors.ab_test_list().get(pk=test.pk)).data,
                        status=status.HTTP_201_CREATED)

    @action(detail=True, methods=["get"])
    def results(self, request, pk=None):
        return Response([asdict(result) for result in ab_tests.ab_test_results(self.get_object())])

    @extend_schema(request=s.PickWinnerInputSerializer, responses=s.ABTestSerializer)
    @action(detail=True, methods=["post"], url_path="pick-winner")
    def pick_winner(self, request, pk=None):
        data = s.PickWinnerInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        test = ab_tests.ab_test_pick_winner(test=self.get_object(), by=request.user, **data.validated_data)
        return Response(self.get_serializer(selectors.ab_test_list().get(pk=test.pk)).data)
