from django.utils import timezone
from rest_framework import serializers

from aicmo_site.api.actions import AvailableActionsField
from aicmo_site.api.fields import (
    DateField,
    DateTimeField,
    IdListField,
    ListField,
    ModelSerializer,
    PrimaryKeyField,
)
from crm.models import CityWeather
from media.models import Asset
from publishing.choices import ContentKind, WeatherCondition
from publishing.formatters import kind_choices
from publishing.models import (
    Campaign,
    Channel,
    ChannelVersion,
    Content,
    ContentAnalysis,
    ContentEvent,
    MetricSnapshot,
    PublishingJob,
)


class ContentSerializer(ModelSerializer):
    author = serializers.StringRelatedField()
    kind = serializers.ChoiceField(choices=ContentKind.choices, default=ContentKind.BLOG_POST)
    tags = ListField(child=serializers.CharField(max_length=80), required=False)
    categories = ListField(child=serializers.CharField(max_length=80), required=False)
    slug = serializers.SlugField(max_length=200, required=False)
    available_actions = AvailableActionsField()

    class Meta:
        model = Content
        fields = ["id", "kind", "title", "slug", "summary", "body", "author", "tags", "categories", "link_url",
                  "urgent", "status", "available_actions", "published_at", "created_at", "updated_at"]
        read_only_fields = ["status", "published_at", "created_at", "updated_at"]
        extra_kwargs = {"slug": {"validators": []}}


class ContentEventSerializer(ModelSerializer):
    by = serializers.StringRelatedField()

    class Meta:
        model = ContentEvent
        fields = ["id", "action", "from_status", "to_status", "by", "note", "changes", "created_at"]


class NoteSerializer(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, default="")


class RequiredNoteSerializer(serializers.Serializer):
    note = serializers.CharField()


class GenerateVersionsSerializer(serializers.Serializer):
    kinds = ListField(child=serializers.ChoiceField(choices=()), allow_empty=False)
    force = serializers.BooleanField(default=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kinds"].child.choices = kind_choices()


class ChannelVersionSerializer(ModelSerializer):
    hashtags = ListField(child=serializers.CharField(max_length=100), required=False)
    mentions = ListField(child=serializers.CharField(max_length=100), required=False)
    media = PrimaryKeyField(many=True, read_only=True)

    class Meta:
        model = ChannelVersion
        fields = ["id", "content", "kind", "title", "body", "hashtags", "mentions", "cta_text", "cta_url", "media",
                  "edited_by_hand", "updated_at"]
        read_only_fields = ["content", "kind", "media", "edited_by_hand", "updated_at"]


class ContentAnalysisSerializer(ModelSerializer):
    """engine_label says which engine produced it: "Local analysis (not AI)" is never an AI's judgement.
    Scores are null for the local analysis and for a failed one."""

    engine_label = serializers.CharField(source="get_engine_display", read_only=True)
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    reasons = ListField(child=serializers.CharField(), read_only=True)
    suggestions = ListField(child=serializers.CharField(), read_only=True)
    measures = serializers.DictField(read_only=True)
    cost_estimate = serializers.DecimalField(max_digits=12, decimal_places=6, read_only=True, allow_null=True)
    created_at = DateTimeField(read_only=True)
    finished_at = DateTimeField(read_only=True, allow_null=True)

    class Meta:
        model = ContentAnalysis
        fields = ["id", "kind", "engine", "engine_label", "status", "status_label", "quality_score",
                  "relevance_score", "reasons", "suggestions", "measures", "error", "note", "prompt_version",
                  "provider", "model", "input_tokens", "output_tokens", "cost_estimate", "created_at", "finished_at"]
        read_only_fields = fields


class CurrentAnalysisSerializer(serializers.Serializer):
    """One text of the content as it is now, with its analysis (null: not analysed since it last changed)."""

    kind = serializers.CharField(help_text="The channel kind; blank for the content itself.")
    label = serializers.CharField()
    analysis = ContentAnalysisSerializer(allow_null=True)


class CheckResultSerializer(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()
    outcome = serializers.ChoiceField(choices=["pass", "warn", "fail"])
    reason = serializers.CharField()


class ChannelSerializer(ModelSerializer):
    kind = serializers.ChoiceField(choices=())

    class Meta:
        model = Channel
        fields = ["id", "name", "slug", "kind", "provider_account", "active", "created_at"]
        read_only_fields = ["created_at"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = kind_choices()


class ChannelIdsField(IdListField):
    """Channel ids in, bounded like every id list; a content item's channels read back as their ids."""

    def to_representation(self, data):
        return [channel.pk for channel in data.all()]


class CampaignContentInputSerializer(serializers.Serializer):
    content = PrimaryKeyField(queryset=Content.objects.all())
    publish_at = DateTimeField(required=False, allow_null=True)
    channels = ChannelIdsField(
        required=False,
        help_text="The ids of the channels to post this content on, among the campaign's; empty: all of them.")

    def validate_channels(self, ids):
        found = {channel.pk: channel for channel in Channel.objects.filter(active=True, pk__in=ids)}
        missing = [str(pk) for pk in ids if pk not in found]
        if missing:
            raise serializers.ValidationError(f"No active channel has the id {', '.join(missing)}.")
        return [found[pk] for pk in dict.fromkeys(ids)]


class AudienceSerializer(serializers.Serializer):
    contact_ids = IdListField(required=False)
    tag_ids = IdListField(required=False)
    domains = ListField(child=serializers.CharField(max_length=253), required=False)
    segment_ids = IdListField(required=False)
    list_ids = IdListField(required=False, help_text="Everyone on these static lists of contacts.")
    exclude_segment_ids = IdListField(required=False, help_text="Members of these segments are left out.")
    exclude_list_ids = IdListField(required=False, help_text="People on these lists are left out.")


class CampaignSerializer(ModelSerializer):
    contents = CampaignContentInputSerializer(many=True, required=False, source="campaign_contents")
    channels = PrimaryKeyField(many=True, queryset=Channel.objects.all(), required=False)
    audience = AudienceSerializer(required=False)
    job_count = serializers.IntegerField(read_only=True)
    published_count = serializers.IntegerField(read_only=True)
    failed_count = serializers.IntegerField(read_only=True)
    available_actions = AvailableActionsField()

    class Meta:
        model = Campaign
        fields = ["id", "name", "description", "status", "available_actions", "starts_at", "ends_at", "contents",
                  "channels", "audience",
                  "budget", "spend", "bid_settings", "utm_enabled", "utm_source", "utm_medium", "utm_campaign",
                  "reading_grade", "activated_at", "job_count", "published_count", "failed_count", "created_at"]
        read_only_fields = ["status", "spend", "activated_at", "created_at"]

    def validate(self, attrs):
        starts, ends = attrs.get("starts_at"), attrs.get("ends_at")
        if starts and ends and ends < starts:
            raise serializers.ValidationError({"ends_at": ["The campaign ends before it starts."]})
        self._check_content_channels(attrs)
        return attrs

    def _check_content_channels(self, attrs):
        """A content item posts on some of the campaign's channels: one outside them would never be posted."""
        if "campaign_contents" not in attrs:
            return
        if "channels" in attrs:
            campaign_channels = set(attrs["channels"])
        else:
            campaign_channels = set(self.instance.channels.all()) if self.instance else set()
        errors, bad = [], False
        for row in attrs["campaign_contents"]:
            outside = [channel.name for channel in row.get("channels", ()) if channel not in campaign_channels]
            errors.append({"channels": [f"Not a channel of this campaign: {', '.join(outside)}. Add it to the "
                                        f"campaign's channels first."]} if outside else {})
            bad = bad or bool(outside)
        if bad:
            raise serializers.ValidationError({"contents": errors})


class JobSerializer(ModelSerializer):
    campaign_name = serializers.CharField(source="campaign.name", read_only=True)
    content_title = serializers.CharField(source="content.title", read_only=True)
    # Blank until the channel has published the post, so not a `uri` for every job.
    external_url = serializers.CharField(read_only=True)
    channel_name = serializers.CharField(source="channel.name", read_only=True)
    available_actions = AvailableActionsField()

    class Meta:
        model = PublishingJob
        fields = ["id", "campaign", "campaign_name", "content", "content_title", "channel", "channel_name",
                  "version", "status", "available_actions", "scheduled_at", "next_retry_at", "published_at",
                  "attempts", "retries",
                  "external_id", "external_url", "draft", "error_message", "error_details", "idempotency_key"]
        read_only_fields = fields


class WeatherHoldSerializer(serializers.Serializer):
    city = serializers.PrimaryKeyRelatedField(queryset=CityWeather.objects.filter(found=True),
                                              help_text="A city where contacts live, as the weather refresh found it")
    condition = serializers.ChoiceField(choices=WeatherCondition.choices)
    threshold = serializers.FloatField(required=False, allow_null=True, min_value=-90, max_value=60,
                                       help_text="°C, for the temperature conditions")
    give_up_at = DateTimeField(help_text="When to stop waiting: the post then fails with the reason")


class CampaignWeatherHoldSerializer(WeatherHoldSerializer):
    channels = PrimaryKeyField(many=True, queryset=Channel.objects.all(), required=False,
                               help_text="Only the posts on these channels of the campaign are held; empty: every post")
    give_up_at = DateTimeField(help_text="When to stop waiting: the posts still held then fail with the reason")
    created_at = DateTimeField(read_only=True)


class RescheduleSerializer(serializers.Serializer):
    day = DateField(help_text="The new day; the post keeps its time of day, in the team's time zone.")
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=500)

    def validate_day(self, value):
        if value < timezone.localdate():
            raise serializers.ValidationError("Choose a day still to come: a post moved into the past would go "
                                              "out at once.")
        return value


class MarkPublishedSerializer(serializers.Serializer):
    url = serializers.URLField()
    external_id = serializers.CharField(required=False, allow_blank=True, default="")
    note = serializers.CharField(required=False, allow_blank=True, default="")


class MetricSnapshotSerializer(ModelSerializer):
    class Meta:
        model = MetricSnapshot
        fields = ["id", "job", "taken_at", "impressions", "clicks", "engagements", "conversions", "spend", "source"]
        read_only_fields = ["id", "job", "source"]
        extra_kwargs = {"taken_at": {"required": False}}


class MetricsCsvSerializer(serializers.Serializer):
    file = serializers.FileField()


class AttachMediaSerializer(serializers.Serializer):
    assets = PrimaryKeyField(many=True, queryset=Asset.objects.all(), allow_empty=False)
