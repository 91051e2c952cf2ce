from django.db import transaction
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from aicmo_site.api.errors import error_body
from aicmo_site.errors import DomainError
from media import services
from media.api import serializers as s
from media.filetypes import KNOWN_TYPES
from media.filters import AssetFilterSet
from media.models import Asset
from media.selectors import asset_performance_summary, asset_queryset, asset_usage, library_list
from media.serving import asset_original_response
from media.suggestions import asset_suggestions
from media.validation import IMAGE_FORMATS

_UPLOAD_ANSWER = inline_serializer("AssetUploadAnswer", {"results": serializers.ListField(
    child=serializers.DictField(),
    help_text="Per file: filename, accepted, and either asset, created and notice, or error")})

ASSET_MIME_TYPES = sorted({*IMAGE_FORMATS.values(), *(known[1] for known in KNOWN_TYPES.values())})
APPROVE = ["media.approve_asset"]
CHANGE = ["media.change_asset"]
VIEW = ["media.view_asset"]


class LibraryViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
                     mixins.UpdateModelMixin, viewsets.GenericViewSet):
    serializer_class = s.LibrarySerializer
    search_fields = ["name", "description"]
    ordering_fields = ["name", "created_at", "asset_count"]

    def get_queryset(self):
        return library_list()

    def perform_create(self, serializer):
        serializer.instance = services.library_create(owner=self.request.user, **serializer.validated_data)
        serializer.instance.asset_count = 0

    def perform_update(self, serializer):
        services.library_update(library=serializer.instance, **serializer.validated_data)


class AssetViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin,
                   viewsets.GenericViewSet):
    """Assets: upload several files at once (multipart `files`), filter, act on one or many."""

    serializer_class = s.AssetSerializer
    filterset_class = AssetFilterSet
    search_fields = ["name", "alt_text", "description"]
    ordering_fields = ["name", "created_at", "size_bytes"]
    action_permissions = {
        "approve": APPROVE, "reject": APPROVE, "bulk_approve": APPROVE,
        "submit": CHANGE, "focal_point": CHANGE, "bulk_tag": CHANGE, "partial_update": CHANGE,
        "usage": VIEW, "performance": VIEW, "suggestions": VIEW, "original": VIEW,
    }

    def get_queryset(self):
        return asset_queryset()

    def _fresh(self, asset: Asset):
        return s.AssetSerializer(asset_queryset().get(pk=asset.pk), context=self.get_serializer_context()).data

    @extend_schema(request={"multipart/form-data": s.AssetUploadSerializer}, responses={201: _UPLOAD_ANSWER})
    def create(self, request):
        data = s.AssetUploadSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        results = services.asset_upload_batch(
            library=data.validated_data["library"], files=data.validated_data["files"], uploaded_by=request.user
        )
        body = []
        for result in results:
            if result.error:
                body.append({"filename": result.filename, "accepted": False,
                             "error": error_body(result.error.code, result.error.message, extra=result.error.extra)})
            else:
                body.append({"filename": result.filename, "accepted": True, "created": result.created,
                             "notice": result.notice, "asset": self._fresh(result.asset)})
        if any(item["accepted"] for item in body):
            return Response({"results": body}, status=status.HTTP_201_CREATED)
        return Response({**error_body("upload_refused", "No file was accepted."), "results": body},
                        status=status.HTTP_400_BAD_REQUEST)

    @extend_schema(request=s.AssetUpdateSerializer)
    def partial_update(self, request, pk=None):
        data = s.AssetUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        asset = services.asset_update(asset=self.get_object(), **data.validated_data)
        return Response(self._fresh(asset))

    def perform_destroy(self, instance):
        services.asset_delete(asset=instance)

    def _transition(self, request, service):
        data = s.AssetNoteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        asset = service(asset=self.get_object(), by=request.user, note=data.validated_data["note"])
        return Response(self._fresh(asset))

    @extend_schema(request=s.AssetNoteSerializer)
    @action(detail=True, methods=["post"])
    def submit(self, request, pk=None):
        return self._transition(request, services.asset_submit)

    @extend_schema(request=s.AssetNoteSerializer)
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        return self._transition(request, services.asset_approve)

    @extend_schema(request=s.AssetNoteSerializer)
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        return self._transition(request, services.asset_reject)

    @extend_schema(request=s.AssetFocalPointSerializer)
    @action(detail=True, methods=["post"], url_path="focal-point")
    def focal_point(self, request, pk=None):
        data = s.AssetFocalPointSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        asset = services.asset_set_focal_point(asset=self.get_object(), by=request.user, **data.validated_data)
        return Response(self._fresh(asset))

    @extend_schema(responses={(200, mime_type): OpenApiTypes.BINARY for mime_type in ASSET_MIME_TYPES},
                   description="The upload as it came, metadata and all (asset file_url points here). What "
                               "channels and public pages get is the cleaned publish rendition.")
    @action(detail=True, methods=["get"])
    def original(self, request, pk=None):
        return asset_original_response(self.get_object())

    @extend_schema(responses=s.AssetUsageSerializer(many=True))
    @action(detail=True, methods=["get"])
    def usage(self, request, pk=None):
        rows = asset_usage(asset=self.get_object())
        return Response(s.AssetUsageSerializer(rows, many=True).data)

    @extend_schema(responses=s.AssetPerformanceSummarySerializer(many=True))
    @action(detail=True, methods=["get"])
    def performance(self, request, pk=None):
        return Response(s.AssetPerformanceSummarySerializer(asset_performance_summary(asset=self.get_object()),
                                                       many=True).data)

    @extend_schema(responses=s.AssetSuggestionSerializer(many=True))
    @action(detail=True, methods=["get"])
    def suggestions(self, request, pk=None):
        found = asset_suggestions(asset=self.get_object())
        return Response(s.AssetSuggestionSerializer([item.as_dict() for item in found], many=True).data)

    def _assets(self, ids):
        assets = list(Asset.objects.filter(pk__in=ids))
        missing = sorted(set(ids) - {asset.pk for asset in assets})
        if missing:
            raise DomainError("Some assets do not exist.", "unknown_asset", {"asset_ids": missing})
        return assets

    @extend_schema(request=s.AssetBulkTagSerializer,
                   responses=inline_serializer("AssetBulkTagAnswer", {"tagged": serializers.IntegerField()}))
    @action(detail=False, methods=["post"], url_path="bulk-tag")
    def bulk_tag(self, request):
        data = s.AssetBulkTagSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        count = services.asset_tags_add(assets=self._assets(data.validated_data["ids"]),
                                        tags=data.validated_data["tags"])
        return Response({"tagged": count})

    @extend_schema(request=s.AssetBulkApproveSerializer, responses=inline_serializer("AssetBulkApproveAnswer", {
        "approved": serializers.ListField(child=serializers.IntegerField()),
        "refused": serializers.ListField(child=serializers.DictField(), help_text="id, code and message of each"),
    }))
    @action(detail=False, methods=["post"], url_path="bulk-approve")
    def bulk_approve(self, request):
        """Approve each asset in review; one that cannot be approved is reported, the others still are."""
        data = s.AssetBulkApproveSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        approved, refused = [], []
        for asset in self._assets(data.validated_data["ids"]):
            try:
                with transaction.atomic():
                    services.asset_approve(asset=asset, by=request.user, note=data.validated_data["note"])
                approved.append(asset.pk)
            except DomainError as error:
                refused.append({"id": asset.pk, **error_body(error.code, error.message)})
        return Response({"approved": approved, "refused": refused})
