"""/api/imports/: upload a CSV (optional mapping, policy, tag), follow its progress, download its errors."""

import json

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response

from aicmo_site.api.fields import JSONField, ModelSerializer
from aicmo_site.errors import DomainError
from aicmo_site.storage import private_file_response
from crm.choices import ImportedRows, ImportPolicy
from crm.imports import import_preview, import_run_cancel, import_run_create, import_run_start
from crm.imports.followups import journey_choices
from crm.models import ImportRun


class MappingField(JSONField):
    """A JSON object {"Column": "field"}; multipart forms send it as a JSON string."""

    def to_internal_value(self, data):
        if isinstance(data, str):
            try:
                data = json.loads(data) if data.strip() else {}
            except ValueError:
                raise serializers.ValidationError('Send a JSON object such as {"Mail": "email"}.')
        if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
            raise serializers.ValidationError('Send a JSON object such as {"Mail": "email"}.')
        return data


class ImportUploadSerializer(serializers.Serializer):
    file = serializers.FileField()
    mapping = MappingField(required=False)
    policy = serializers.ChoiceField(choices=ImportPolicy.choices, default=ImportPolicy.UPDATE)
    tag = serializers.CharField(required=False, allow_blank=True, max_length=80, default="")
    journey = serializers.IntegerField(required=False, allow_null=True, default=None,
                                       help_text="An active journey the imported contacts enter (/api/journeys/)")
    journey_rows = serializers.ChoiceField(choices=ImportedRows.choices, default=ImportedRows.BOTH,
                                           help_text="Which imported contacts enter the journey")

    def validate_journey(self, value):
        if value is not None and value not in dict(journey_choices()):
            raise serializers.ValidationError("Choose an active journey.")
        return value


class ImportPreviewSerializer(serializers.Serializer):
    file = serializers.FileField()


class ImportRunSerializer(ModelSerializer):
    progress = serializers.IntegerField(read_only=True)
    requested_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    error_report_url = serializers.SerializerMethodField()
    background_run = serializers.IntegerField(source="run_id", read_only=True, allow_null=True,
                                              help_text="This import among all background work: /api/runs/{id}/")

    class Meta:
        model = ImportRun
        fields = ["id", "original_name", "status", "progress", "policy", "tag", "journey_id", "journey_rows",
                  "mapping", "encoding", "delimiter",
                  "total_rows", "processed_rows", "created_count", "updated_count", "skipped_count",
                  "failed_count", "error", "error_report_url", "requested_by", "created_at", "started_at",
                  "finished_at", "background_run"]
        read_only_fields = fields

    def get_error_report_url(self, run) -> str | None:
        if not run.error_report:
            return None
        request = self.context.get("request")
        path = f"/api/imports/{run.pk}/errors/"
        return request.build_absolute_uri(path) if request else path


class ImportRunViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    queryset = ImportRun.objects.select_related("requested_by").order_by("-created_at", "-id")
    serializer_class = ImportRunSerializer
    parser_classes = [MultiPartParser, FormParser, JSONParser]
    filterset_fields = ["status", "policy"]
    search_fields = ["original_name", "tag"]
    ordering_fields = ["created_at", "finished_at", "processed_rows"]
    action_permissions = {
        "create": ["crm.add_importrun", "crm.add_contact", "crm.change_contact"],
        "preview": ["crm.add_importrun"],
        "cancel": ["crm.change_importrun"],
        "errors": ["crm.view_importrun"],
    }

    @extend_schema(request={"multipart/form-data": ImportUploadSerializer}, responses={201: ImportRunSerializer})
    def create(self, request):
        """Uploads a CSV and imports it: at once when small, in the background otherwise (poll the run)."""
        data = ImportUploadSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        upload = data.validated_data["file"]
        run = import_run_create(upload=upload, original_name=upload.name, policy=data.validated_data["policy"],
                                tag=data.validated_data["tag"], mapping=data.validated_data.get("mapping"),
                                by=request.user, starts_now=True, journey_id=data.validated_data["journey"],
                                journey_rows=data.validated_data["journey_rows"])
        run = import_run_start(run=run)
        return Response(self.get_serializer(run).data, status=status.HTTP_201_CREATED)

    @extend_schema(request={"multipart/form-data": ImportPreviewSerializer}, responses={200: OpenApiResponse(
        response={"type": "object", "additionalProperties": True},
        description="columns, rows, encoding, delimiter and mapping")})
    @action(detail=False, methods=["post"])
    def preview(self, request):
        """Columns, first rows, detected encoding and delimiter, and the automatic mapping of a file."""
        data = ImportPreviewSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return Response(import_preview(upload=data.validated_data["file"]))

    @extend_schema(request=None, responses=ImportRunSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        return Response(self.get_serializer(import_run_cancel(run=self.get_object(), by=request.user)).data)

    @extend_schema(responses={(200, "text/csv"): bytes})
    @action(detail=True, methods=["get"])
    def errors(self, request, pk=None):
        """The error report: line, column, value, reason, then the original row."""
        run = self.get_object()
        if not run.error_report:
            raise DomainError("This import has no errors to report.", code="no_error_report", status=404)
        return private_file_response(run.error_report, filename=f"import-{run.pk}-errors.csv",
                                     content_type="text/csv")
