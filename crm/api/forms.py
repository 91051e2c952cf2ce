"""Subscription forms: CRUD calling crm services, and each form's submissions (the consent records)."""

from django.shortcuts import get_object_or_404
from django_filters import rest_framework as filters
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from aicmo_site.api.fields import ModelSerializer
from aicmo_site.api.pagination import StandardPagination
from crm import selectors, services
from crm.form_models import FORM_FIELD_CHOICES, FormSubmission, SubscriptionForm
from crm.models import ContactList, Tag, Topic


class CustomQuestionSerializer(serializers.Serializer):
    key = serializers.SlugField(max_length=40)
    label = serializers.CharField(max_length=200)


class SubscriptionFormSerializer(ModelSerializer):
    slug = serializers.SlugField(max_length=60, required=False, allow_blank=True,
                                 help_text="Part of the public address /f/<slug>/; empty: made from the name")
    fields = serializers.ListField(child=serializers.ChoiceField(choices=FORM_FIELD_CHOICES), required=False)
    required_fields = serializers.ListField(child=serializers.ChoiceField(choices=FORM_FIELD_CHOICES),
                                            required=False)
    custom_fields = CustomQuestionSerializer(many=True, required=False)
    allowed_origins = serializers.ListField(child=serializers.CharField(max_length=200), required=False,
                                            help_text="Sites that may embed the form, e.g. https://www.example.com")
    topics = serializers.SlugRelatedField(slug_field="slug", queryset=Topic.objects.all(), many=True, required=False)
    tags = serializers.SlugRelatedField(slug_field="name", queryset=Tag.objects.all(), many=True, required=False)
    lists = serializers.SlugRelatedField(slug_field="name", queryset=ContactList.objects.all(), many=True,
                                         required=False, help_text="Static lists subscribers are put on, by name")
    submission_count = serializers.IntegerField(read_only=True)
    confirmed_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = SubscriptionForm
        fields = ("id", "name", "slug", "fields", "required_fields", "custom_fields", "topics", "tags", "lists",
                  "consent_text", "thank_you_message", "redirect_url", "double_opt_in", "allowed_origins",
                  "min_seconds", "submission_count", "confirmed_count", "created_at", "updated_at")
        read_only_fields = ("created_at", "updated_at")
        # Uniqueness is the service's to check (the slug may be made from the name).
        extra_kwargs = {"name": {"validators": []}}


class FormSubmissionSerializer(serializers.ModelSerializer):
    class Meta:
        model = FormSubmission
        fields = ("id", "contact", "email", "answers", "topics", "consent_text", "ip", "user_agent", "origin",
                  "submitted_at", "confirmed_at", "confirmed_ip", "confirmed_user_agent", "confirmation_sent_at",
                  "confirmation_error")
        read_only_fields = fields


class ReconcileSerializer(serializers.Serializer):
    sent = serializers.BooleanField(help_text="What the email provider's log shows: true, it was sent")


class SubmissionFilterSet(filters.FilterSet):
    confirmed = filters.BooleanFilter(field_name="confirmed_at", lookup_expr="isnull", exclude=True)

    class Meta:
        model = FormSubmission
        fields = ("confirmed",)


class SubscriptionFormViewSet(viewsets.ModelViewSet):
    """Subscription forms with their counts; `?search=` by name or address. `submissions` lists the people
    who sent one, each with the consent record (time, IP address, text shown, topics chosen)."""

    serializer_class = SubscriptionFormSerializer
    search_fields = ("name", "slug")
    ordering_fields = ("name", "created_at", "updated_at")
    filterset_fields = ("double_opt_in",)
    action_permissions = {"submissions": ["crm.view_formsubmission"], "resend": ["crm.change_formsubmission"],
                          "reconcile": ["crm.change_formsubmission"]}

    def get_queryset(self):
        if self.action in ("submissions", "resend", "reconcile"):
            return SubscriptionForm.objects.all()
        return selectors.subscription_forms().prefetch_related("topics", "tags", "lists")

    def perform_create(self, serializer):
        form = services.form_create(by=self.request.user, **serializer.validated_data)
        serializer.instance = self.get_queryset().get(pk=form.pk)

    def perform_update(self, serializer):
        form = services.form_update(form=serializer.instance, **serializer.validated_data)
        serializer.instance = self.get_queryset().get(pk=form.pk)

    def perform_destroy(self, instance):
        services.form_delete(form=instance)

    @extend_schema(responses=FormSubmissionSerializer(many=True), parameters=[OpenApiParameter(
        "confirmed", bool, description="true: confirmed consents; false: waiting for the link")])
    @action(detail=True, methods=["get"], filter_backends=[], pagination_class=StandardPagination)
    def submissions(self, request, pk=None):
        given = SubmissionFilterSet(request.query_params, queryset=selectors.form_submissions(self.get_object()))
        if not given.is_valid():
            raise ValidationError(given.errors)
        page = self.paginate_queryset(given.qs)
        return self.get_paginated_response(FormSubmissionSerializer(page, many=True).data)

    def _submission(self, submission_id: str) -> FormSubmission:
        return get_object_or_404(FormSubmission, pk=submission_id, form=self.get_object())

    @extend_schema(request=None, responses=FormSubmissionSerializer)
    @action(detail=True, methods=["post"], url_path="submissions/<id:submission_id>/resend")
    def resend(self, request, pk=None, submission_id=None):
        """Queues a confirmation email the provider refused (its retries may have run out) again; 409 when
        it was sent, is being sent, or its outcome is unknown (settle that with reconcile)."""
        submission = services.submission_confirmation_resend(submission=self._submission(submission_id),
                                                              by=request.user)
        return Response(FormSubmissionSerializer(submission).data)

    @extend_schema(request=ReconcileSerializer, responses=FormSubmissionSerializer)
    @action(detail=True, methods=["post"], url_path="submissions/<id:submission_id>/reconcile")
    def reconcile(self, request, pk=None, submission_id=None):
        """Settles a confirmation email whose outcome is unknown, once the provider's log was checked: sent
        (marked so) or not (queued again); 409 for any other."""
        given = ReconcileSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        submission = services.submission_confirmation_reconcile(submission=self._submission(submission_id),
                                                                sent=given.validated_data["sent"], by=request.user)
        return Response(FormSubmissionSerializer(submission).data)
