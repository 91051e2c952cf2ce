from rest_framework import serializers

from aicmo_site.api.actions import AvailableActionsField
from aicmo_site.api.fields import ListField, ModelSerializer, PrimaryKeyField
from crm.models import Contact
from media.models import Asset
from publishing.email.brand import brand_values
from publishing.email.choices import ABMetric
from publishing.email.models import (
    ABTest,
    ABVariant,
    BrandKit,
    EmailBlock,
    EmailCampaign,
    EmailDelivery,
    EmailLayout,
    EmailTemplate,
)
from publishing.email.services.brand import BRAND_KIT_FIELDS
from publishing.models import Campaign


class EmailBlockSerializer(ModelSerializer):
    """tags, segments, topics: ids; a block with none of the three shows to everyone."""

    class Meta:
        model = EmailBlock
        fields = ["id", "template", "slot", "title", "html", "position", "tags", "segments", "topics"]


class EmailBlockUpdateSerializer(EmailBlockSerializer):
    class Meta(EmailBlockSerializer.Meta):
        read_only_fields = ["template"]  # a block moves to another template by being made there


class EmailTemplateSerializer(ModelSerializer):
    blocks = EmailBlockSerializer(many=True, read_only=True,
                                  help_text="Dynamic blocks; written through /api/email-blocks/")

    class Meta:
        model = EmailTemplate
        fields = ["id", "name", "subject", "preheader", "format", "layout", "html_body", "text_body", "blocks",
                  "created_by", "created_at", "updated_at"]
        read_only_fields = ["created_by", "created_at", "updated_at"]


class EmailLayoutSerializer(ModelSerializer):
    class Meta:
        model = EmailLayout
        fields = ["id", "name", "format", "body", "created_by", "created_at", "updated_at"]
        read_only_fields = ["created_by", "created_at", "updated_at"]


class BrandKitSerializer(ModelSerializer):
    """logo: the id of an approved image of the asset library. `variables`: what templates read as brand.*."""

    logo = PrimaryKeyField(queryset=Asset.objects.all(), required=False, allow_null=True)
    variables = serializers.SerializerMethodField()
    # The defaults are answered before anyone has saved a kit: then nobody has changed it yet.
    updated_at = serializers.DateTimeField(read_only=True, allow_null=True)

    class Meta:
        model = BrandKit
        fields = [*BRAND_KIT_FIELDS, "variables", "updated_by", "updated_at"]
        read_only_fields = ["updated_by", "updated_at"]

    def get_variables(self, kit) -> dict:
        return brand_values(kit)


class PreviewInputSerializer(serializers.Serializer):
    contact = PrimaryKeyField(queryset=Contact.objects.all(), required=False, allow_null=True)
    subject = serializers.CharField(required=False, allow_blank=True, default="")


class TestSendInputSerializer(PreviewInputSerializer):
    to = ListField(child=serializers.EmailField(), min_length=1, max_length=20)


class RenderedSerializer(serializers.Serializer):
    subject = serializers.CharField()
    preheader = serializers.CharField()
    html = serializers.CharField()
    text = serializers.CharField()


class EmailCampaignSerializer(ModelSerializer):
    campaign = PrimaryKeyField(queryset=Campaign.objects.all())
    campaign_name = serializers.CharField(source="campaign.name", read_only=True)
    available_actions = AvailableActionsField()

    class Meta:
        model = EmailCampaign
        fields = ["id", "campaign", "campaign_name", "template", "from_email", "from_name", "reply_to",
                  "deliver_at_best_hour", "status", "available_actions", "audience_size", "requested_by", "started_at",
                  "finished_at",
                  "created_at", "updated_at"]
        read_only_fields = ["status", "audience_size", "requested_by", "started_at", "finished_at"]


class SendNoteSerializer(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, default="")


class DeliverySerializer(ModelSerializer):
    email = serializers.CharField(source="contact.email", read_only=True)
    variant_label = serializers.CharField(source="variant.label", read_only=True, default="")

    class Meta:
        model = EmailDelivery
        fields = ["id", "campaign", "contact", "email", "variant", "variant_label", "held", "status", "message_id",
                  "provider", "provider_response", "attempts", "next_attempt_at", "failover_note", "sent_at", "error",
                  "first_opened_at", "open_count", "first_clicked_at", "click_count", "created_at"]
        read_only_fields = fields


class ABVariantSerializer(ModelSerializer):
    class Meta:
        model = ABVariant
        fields = ["id", "label", "subject", "template"]


class ABTestSerializer(ModelSerializer):
    variants = ABVariantSerializer(many=True, read_only=True)
    campaign = serializers.IntegerField(source="email_campaign.campaign_id", read_only=True)
    available_actions = AvailableActionsField()

    class Meta:
        model = ABTest
        fields = ["id", "email_campaign", "campaign", "metric", "test_share", "confidence_level", "wait_minutes",
                  "status", "available_actions", "winner", "decided_at", "decided_by", "decision_note", "variants",
                  "created_at"]
        read_only_fields = fields


class ABVariantInputSerializer(serializers.Serializer):
    label = serializers.CharField(max_length=20)
    subject = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")
    template = PrimaryKeyField(queryset=EmailTemplate.objects.all(), required=False,
                                                  allow_null=True, default=None)


class ABTestInputSerializer(serializers.Serializer):
    email_campaign = PrimaryKeyField(queryset=EmailCampaign.objects.all())
    metric = serializers.ChoiceField(choices=ABMetric.choices, default=ABMetric.OPEN_RATE)
    test_share = serializers.IntegerField(min_value=1, max_value=100, default=20)
    confidence_level = serializers.FloatField(min_value=0.5, max_value=0.999, default=0.95)
    wait_minutes = serializers.IntegerField(min_value=0, max_value=60 * 24 * 90, default=240)
    variants = ABVariantInputSerializer(many=True, min_length=2)


class PickWinnerInputSerializer(serializers.Serializer):
    winner = PrimaryKeyField(queryset=ABVariant.objects.all())
    note = serializers.CharField(required=False, allow_blank=True, default="")
