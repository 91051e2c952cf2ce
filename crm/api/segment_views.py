"""Segments, suppressions and enrichment runs."""

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from crm import selectors, services
from crm.api.pagination import ContactPagination
from crm.api.serializers import (
    ContactSerializer,
    EnrichmentRunCreateSerializer,
    EnrichmentRunSerializer,
    RulesSerializer,
    SegmentSerializer,
    SuppressionSerializer,
)
from crm.api.views import ReadOnlyCreateDestroyViewSet
from crm.models import EnrichmentRun, Segment, Suppression


class SegmentViewSet(viewsets.ModelViewSet):
    queryset = Segment.objects.select_related("created_by")
    serializer_class = SegmentSerializer
    search_fields = ("name", "description")
    ordering_fields = ("name", "created_at", "updated_at")
    action_permissions = {"preview": ["crm.view_segment"]}

    def perform_create(self, serializer):
        serializer.instance = services.segment_create(by=self.request.user, **serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = services.segment_update(segment=serializer.instance, **serializer.validated_data)

    def perform_destroy(self, instance):
        services.segment_delete(segment=instance)

    @extend_schema(responses=ContactSerializer(many=True))
    @action(detail=True, methods=["get"], filter_backends=[], pagination_class=ContactPagination)
    def members(self, request, pk=None):
        segment = self.get_object()
        page = self.paginator.paginate_queryset(
            selectors.segment_members(segment), request, view=self,
            rows=lambda offset, limit: selectors.segment_members_page(segment, offset=offset, limit=limit),
            count=lambda at_most: selectors.segment_members_count(segment, at_most=at_most))
        return self.get_paginated_response(ContactSerializer(page, many=True).data)

    @extend_schema(responses={200: dict})
    @action(detail=True, methods=["get"])
    def count(self, request, pk=None):
        return Response({"count": selectors.segment_count(self.get_object().rules)})

    @extend_schema(request=RulesSerializer, responses={200: dict})
    @action(detail=False, methods=["post"])
    def preview(self, request):
        """How many contacts unsaved rules select: the live count of the segment editor."""
        given = RulesSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        return Response({"count": selectors.segment_count(given.validated_data["rules"])})


class SuppressionViewSet(ReadOnlyCreateDestroyViewSet):
    queryset = Suppression.objects.all()
    serializer_class = SuppressionSerializer
    filterset_fields = ("kind", "reason")
    search_fields = ("value", "source")
    ordering_fields = ("created_at", "value")

    def perform_create(self, serializer):
        data = serializer.validated_data
        serializer.instance = services.suppression_add(value=data["value"], reason=data["reason"],
                                                       source=data.get("source") or f"api:{self.request.user}")

    def perform_destroy(self, instance):
        services.suppression_remove(suppression=instance)


class EnrichmentRunViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    queryset = EnrichmentRun.objects.select_related("requested_by")
    serializer_class = EnrichmentRunSerializer
    filterset_fields = ("status",)
    ordering_fields = ("created_at",)
    action_permissions = {"cancel": ["crm.change_enrichmentrun"]}

    @extend_schema(request=EnrichmentRunCreateSerializer, responses={202: EnrichmentRunSerializer})
    def create(self, request):
        """Enrich some contacts, a segment, or every New contact; the work runs in the background."""
        given = EnrichmentRunCreateSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        run = services.enrichment_run_create(by=request.user, **given.validated_data)
        return Response(EnrichmentRunSerializer(run).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(request=None, responses=EnrichmentRunSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        run = services.enrichment_run_cancel(run=self.get_object(), by=request.user)
        return Response(EnrichmentRunSerializer(run).data)
