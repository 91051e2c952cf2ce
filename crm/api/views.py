"""Contacts and companies. Reads are filtered viewsets; every change calls a crm service."""

from django.db import transaction
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from aicmo_site.api.pagination import StandardPagination
from crm import selectors, services
from crm.api.pagination import ContactPagination
from crm.api.serializers import (
    CompanySerializer,
    ContactSelectionSerializer,
    ContactSerializer,
    EngagementEventSerializer,
    EnrichmentRunSerializer,
    TimelineEntrySerializer,
    TransitionSerializer,
)
from crm.filters import ContactFilterSet
from crm.models import Company, Contact, EngagementEvent
from crm.segments import rules_q


class ContactViewSet(viewsets.ModelViewSet):
    """Contacts. Filters: tag, domain, lifecycle_status, email_status, engagement_tier, score_min,
    score_max, company, segment, created_after/before, search (email, name, company), ordering.
    Pages count at most 1,000 contacts (`count_capped`); `?cursor=` gives keyset pages, newest first."""

    queryset = selectors.contacts_listed()
    serializer_class = ContactSerializer
    filterset_class = ContactFilterSet
    pagination_class = ContactPagination
    # `ordering` is the FilterSet's (with its tie-break by id); DRF's own ordering filter would sort again
    # on the bare field and drop the tie-break.
    ordering_fields = ()
    action_permissions = {
        "bulk_tag": ["crm.change_contact"], "bulk_untag": ["crm.change_contact"],
        "transition": ["crm.change_contact"], "enrich": ["crm.add_enrichmentrun"],
        "timeline": ["crm.view_contact"],
    }

    def get_queryset(self):
        return selectors.contacts_listed()

    def _set_topics(self, contact, topics):
        if topics is not None:
            services.contact_topics_set(contact=contact, topics=topics, source="api", by=self.request.user)

    @transaction.atomic  # the contact and its topics are saved together or not at all
    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        topics = data.pop("topics", None)
        contact = services.contact_create(by=self.request.user, tags=data.pop("new_tags", []), **data)
        self._set_topics(contact, topics)
        serializer.instance = self.get_queryset().get(pk=contact.pk)

    @transaction.atomic
    def perform_update(self, serializer):
        data = dict(serializer.validated_data)
        data.pop("new_tags", None)
        topics = data.pop("topics", None)
        contact = services.contact_update(contact=serializer.instance, by=self.request.user, **data)
        self._set_topics(contact, topics)
        serializer.instance = self.get_queryset().get(pk=contact.pk)

    def perform_destroy(self, instance):
        services.contact_delete(contact=instance)

    def _selection(self, request):
        given = ContactSelectionSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        data = given.validated_data
        chosen = Contact.objects.filter(pk__in=data["contact_ids"]) if data["contact_ids"] else Contact.objects.none()
        if data.get("segment"):
            chosen = Contact.objects.filter(rules_q(data["segment"].rules)) | chosen
        return chosen, data["tags"]

    @extend_schema(request=ContactSelectionSerializer, responses={200: dict})
    @action(detail=False, methods=["post"], url_path="bulk-tag")
    def bulk_tag(self, request):
        contacts, tags = self._selection(request)
        return Response({"added": services.contacts_tag(contacts=contacts, tag_names=tags)})

    @extend_schema(request=ContactSelectionSerializer, responses={200: dict})
    @action(detail=False, methods=["post"], url_path="bulk-untag")
    def bulk_untag(self, request):
        contacts, tags = self._selection(request)
        return Response({"removed": services.contacts_untag(contacts=contacts, tag_names=tags)})

    @extend_schema(request=TransitionSerializer, responses=ContactSerializer)
    @action(detail=True, methods=["post"])
    def transition(self, request, pk=None):
        given = TransitionSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        contact = services.contact_transition(contact=self.get_object(), to=given.validated_data["to"],
                                              by=request.user, reason=given.validated_data["reason"])
        return Response(ContactSerializer(self.get_queryset().get(pk=contact.pk)).data)

    @extend_schema(request=None, responses={202: EnrichmentRunSerializer})
    @action(detail=True, methods=["post"])
    def enrich(self, request, pk=None):
        run = services.enrichment_run_create(contact_ids=[self.get_object().pk], by=request.user)
        return Response(EnrichmentRunSerializer(run).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(methods=["get"], responses=EngagementEventSerializer(many=True))
    @extend_schema(methods=["post"], request=EngagementEventSerializer, responses={201: EngagementEventSerializer})
    @action(detail=True, methods=["get", "post"], filterset_class=None, pagination_class=StandardPagination)
    def events(self, request, pk=None):
        """GET: the contact's events, newest first. POST: record a manual note or an event."""
        contact = self.get_object()
        if request.method == "POST":
            given = EngagementEventSerializer(data=request.data)
            given.is_valid(raise_exception=True)
            event = services.contact_record_event(contact=contact, **given.validated_data)
            return Response(EngagementEventSerializer(event).data, status=status.HTTP_201_CREATED)
        page = self.paginate_queryset(EngagementEvent.objects.filter(contact=contact).order_by("-occurred_at", "-id"))
        return self.get_paginated_response(EngagementEventSerializer(page, many=True).data)

    @extend_schema(responses=TimelineEntrySerializer(many=True))
    @action(detail=True, methods=["get"], filterset_class=None, pagination_class=None)
    def timeline(self, request, pk=None):
        return Response(TimelineEntrySerializer(selectors.contact_timeline(self.get_object()), many=True).data)


class CompanyViewSet(viewsets.ModelViewSet):
    queryset = Company.objects.all()
    serializer_class = CompanySerializer
    search_fields = ("name", "domain", "industry")
    ordering_fields = ("name", "domain", "created_at")
    filterset_fields = ("domain", "industry", "size")

    def perform_create(self, serializer):
        serializer.instance = services.company_create(**serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = services.company_update(company=serializer.instance, **serializer.validated_data)

    def perform_destroy(self, instance):
        services.company_delete(company=instance)


class ReadOnlyCreateDestroyViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
                                   mixins.DestroyModelMixin, viewsets.GenericViewSet):
    """Lists whose rows are added and removed but never edited (suppressions, runs)."""
