from rest_framework import serializers

from aicmo_site.api.fields import DateTimeField, IdListField, JSONField, ListField, ModelSerializer, PrimaryKeyField
from crm.choices import EventKind, LifecycleStatus, SuppressionReason
from crm.models import Company, Contact, EngagementEvent, EnrichmentRun, Segment, Suppression, Topic
from crm.segments import rules_q


class CompanySerializer(ModelSerializer):
    class Meta:
        model = Company
        fields = ("id", "domain", "name", "industry", "size", "website", "created_at", "updated_at")
        read_only_fields = ("created_at", "updated_at")
        # Uniqueness is the service's to check (after the domain is normalised).
        extra_kwargs = {"domain": {"validators": []}}


class ListedNamesField(serializers.ListField):
    """Names selectors.contacts_listed() put on each contact, in alphabetical order."""

    child = serializers.CharField()

    def to_representation(self, data):
        return sorted(data)


class ListedTopicsField(serializers.ManyRelatedField):
    """Written as topic slugs; read from the slugs selectors.contacts_listed() put on each contact, so a page
    of contacts costs no query for its topics."""

    def get_attribute(self, instance):
        return instance.topic_slugs

    def to_representation(self, iterable):
        return sorted(iterable)


class ContactSerializer(ModelSerializer):
    """Reads contacts from selectors.contacts_listed()."""

    company_name = serializers.CharField(read_only=True)
    tags = ListedNamesField(source="tag_names", read_only=True)
    new_tags = ListField(child=serializers.CharField(max_length=80), write_only=True, required=False,
                                     help_text="Tags for a new contact")
    topics = ListedTopicsField(child_relation=serializers.SlugRelatedField(slug_field="slug",
                                                                          queryset=Topic.objects.all()),
                               required=False,
                               help_text="Slugs of the topics of interest; written with contact_topics_set")

    class Meta:
        model = Contact
        fields = (
            "id", "email", "first_name", "last_name", "job_title", "phone", "company", "company_name", "domain",
            "linkedin_url", "city", "country", "source", "lifecycle_status", "email_status", "consent_status",
            "consent_changed_at", "consent_source", "custom_fields", "field_sources", "engagement_score",
            "engagement_tier", "soft_bounce_count", "last_activity_at", "stripe_customer_id", "lifetime_value",
            "value_tier", "tags",
            "new_tags", "topics", "time_zone", "created_at", "updated_at",
        )
        read_only_fields = (
            "domain", "lifecycle_status", "email_status", "consent_status", "consent_changed_at", "consent_source",
            "field_sources", "engagement_score", "engagement_tier", "soft_bounce_count", "last_activity_at",
            "stripe_customer_id", "lifetime_value", "value_tier", "created_at", "updated_at",
        )
        # The service checks uniqueness on the lower-cased address.
        extra_kwargs = {"email": {"validators": []}}


class ContactSelectionSerializer(serializers.Serializer):
    contact_ids = IdListField(required=False, default=list)
    segment = PrimaryKeyField(queryset=Segment.objects.all(), required=False, allow_null=True)
    tags = ListField(child=serializers.CharField(max_length=80), min_length=1)

    def validate(self, data):
        if not data["contact_ids"] and not data.get("segment"):
            raise serializers.ValidationError({"contact_ids": ["Give contact IDs or a segment."]})
        return data


class TransitionSerializer(serializers.Serializer):
    to = serializers.ChoiceField(choices=LifecycleStatus.choices)
    reason = serializers.CharField(required=False, allow_blank=True, default="")


class EngagementEventSerializer(ModelSerializer):
    kind = serializers.ChoiceField(choices=EventKind.choices)
    occurred_at = DateTimeField(required=False)

    class Meta:
        model = EngagementEvent
        fields = ("id", "kind", "occurred_at", "value", "campaign_id", "channel", "source_kind", "source_id",
                  "detail")
        read_only_fields = ("id",)


class TimelineEntrySerializer(serializers.Serializer):
    at = DateTimeField()
    type = serializers.CharField()
    kind = serializers.CharField()
    title = serializers.CharField()
    detail = serializers.JSONField()
    id = serializers.IntegerField()


class SegmentRulesField(JSONField):
    """A rule tree, checked by crm.segments before it reaches a service: a wrong tree is refused with
    code invalid_rules and every problem by its path in extra.errors (what the segment editor shows)."""

    def to_internal_value(self, data):
        rules = super().to_internal_value(data)
        rules_q(rules)
        return rules


class SegmentSerializer(ModelSerializer):
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    rules = SegmentRulesField(help_text=Segment._meta.get_field("rules").help_text)

    class Meta:
        model = Segment
        fields = ("id", "name", "description", "rules", "announce_entries", "reading_grade", "created_by", "created_at",
                  "updated_at")
        read_only_fields = ("created_by", "created_at", "updated_at")
        extra_kwargs = {"name": {"validators": []}}


class RulesSerializer(serializers.Serializer):
    rules = SegmentRulesField(help_text=Segment._meta.get_field("rules").help_text)


class SuppressionSerializer(ModelSerializer):
    reason = serializers.ChoiceField(choices=SuppressionReason.choices, default=SuppressionReason.MANUAL)

    class Meta:
        model = Suppression
        fields = ("id", "value", "kind", "reason", "source", "created_at")
        read_only_fields = ("kind", "created_at")
        validators = []


class EnrichmentRunSerializer(ModelSerializer):
    requested_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    progress = serializers.IntegerField(read_only=True)
    background_run = serializers.IntegerField(source="run_id", read_only=True, allow_null=True,
                                              help_text="This run among all background work: /api/runs/{id}/")

    class Meta:
        model = EnrichmentRun
        fields = ("id", "status", "requested_by", "scope", "total", "queued", "enriched", "verified", "failed",
                  "skipped", "progress", "created_at", "started_at", "finished_at", "error", "background_run")
        read_only_fields = fields


class EnrichmentRunCreateSerializer(serializers.Serializer):
    contact_ids = IdListField(required=False, default=list)
    segment = PrimaryKeyField(queryset=Segment.objects.all(), required=False, allow_null=True)
    all_new = serializers.BooleanField(required=False, default=False)

    def validate(self, data):
        if sum([bool(data["contact_ids"]), data.get("segment") is not None, data["all_new"]]) != 1:
            raise serializers.ValidationError(
                {"non_field_errors": ["Choose exactly one of contact_ids, segment or all_new."]})
        return data
