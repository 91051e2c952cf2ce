from django.urls import reverse
from rest_framework import serializers

from aicmo_site.api.actions import AvailableActionsField
from aicmo_site.api.fields import DateField, IdListField, ListField, ModelSerializer, PrimaryKeyField
from media.models import Asset, AssetUsage, Library, Rendition


class LibrarySerializer(ModelSerializer):
    asset_count = serializers.IntegerField(read_only=True)
    owner = serializers.CharField(source="owner.username", read_only=True, default=None)

    class Meta:
        model = Library
        fields = ["id", "name", "description", "owner", "asset_count", "created_at"]
        read_only_fields = ["created_at"]


def absolute(request, url: str) -> str:
    return request.build_absolute_uri(url) if request else url


class RenditionSerializer(ModelSerializer):
    url = serializers.SerializerMethodField()

    class Meta:
        model = Rendition
        fields = ["preset", "format", "width", "height", "size_bytes", "url"]

    def get_url(self, rendition) -> str:
        return absolute(self.context.get("request"), rendition.url)


class AssetSerializer(ModelSerializer):
    library = PrimaryKeyField(read_only=True)
    library_name = serializers.CharField(source="library.name", read_only=True)
    tags = serializers.SerializerMethodField()
    uploaded_by = serializers.CharField(source="uploaded_by.username", read_only=True, default=None)
    file_url = serializers.SerializerMethodField(
        help_text="The original upload, for signed-in people who may see the library (never a public URL).")
    in_use = serializers.BooleanField(read_only=True, default=False)
    renditions = RenditionSerializer(many=True, read_only=True)
    available_actions = AvailableActionsField()

    class Meta:
        model = Asset
        fields = [
            "id", "library", "library_name", "name", "kind", "mime_type", "size_bytes", "width", "height",
            "orientation", "sha256", "alt_text", "description", "licence", "usage_rights", "rights_expire_on",
            "status", "available_actions", "focal_x", "focal_y", "tags", "uploaded_by", "created_at", "file_url",
            "in_use", "renditions",
        ]
        read_only_fields = fields

    def get_tags(self, asset) -> list[str]:
        return [tag.name for tag in asset.tags.all()]

    def get_file_url(self, asset) -> str:
        return absolute(self.context.get("request"), reverse("media-asset-original", args=[asset.pk]))


class AssetUploadSerializer(serializers.Serializer):
    library = PrimaryKeyField(queryset=Library.objects.all())
    files = ListField(child=serializers.FileField(allow_empty_file=True), min_length=1, max_length=50)


class AssetUpdateSerializer(serializers.Serializer):
    library = PrimaryKeyField(queryset=Library.objects.all(), required=False)
    name = serializers.CharField(max_length=200, required=False)
    alt_text = serializers.CharField(max_length=300, required=False, allow_blank=True)
    description = serializers.CharField(required=False, allow_blank=True)
    licence = serializers.CharField(max_length=120, required=False, allow_blank=True)
    usage_rights = serializers.CharField(required=False, allow_blank=True)
    rights_expire_on = DateField(required=False, allow_null=True)
    tags = ListField(child=serializers.CharField(max_length=60), required=False)


class AssetNoteSerializer(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, default="")


class AssetFocalPointSerializer(serializers.Serializer):
    x = serializers.FloatField(min_value=0.0, max_value=1.0)
    y = serializers.FloatField(min_value=0.0, max_value=1.0)


class AssetBulkTagSerializer(serializers.Serializer):
    ids = IdListField(min_length=1, max_length=500)
    tags = ListField(child=serializers.CharField(max_length=60), min_length=1)


class AssetBulkApproveSerializer(serializers.Serializer):
    ids = IdListField(min_length=1, max_length=500)
    note = serializers.CharField(required=False, allow_blank=True, default="")


class AssetUsageSerializer(ModelSerializer):
    class Meta:
        model = AssetUsage
        fields = ["used_in_kind", "used_in_id", "campaign_id", "channel", "count", "first_used_at", "last_used_at"]


class AssetPerformanceSummarySerializer(serializers.Serializer):
    channel = serializers.CharField()
    campaign_id = serializers.IntegerField(allow_null=True)
    impressions = serializers.IntegerField(source="total_impressions")
    clicks = serializers.IntegerField(source="total_clicks")
    conversions = serializers.IntegerField(source="total_conversions")
    ctr = serializers.FloatField(allow_null=True)


class AssetSuggestionSerializer(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()
    figures = serializers.DictField()
