"""Static lists of contacts: the lists, their members, and adding or taking people off in bulk."""

from django.http import QueryDict
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from aicmo_site.api.fields import DateTimeField, IdListField, ModelSerializer, PrimaryKeyField
from aicmo_site.api.pagination import StandardPagination
from crm import selectors, services
from crm.filters import ContactFilterSet
from crm.models import Contact, ContactList, ContactListMember, Segment
from crm.segments import rules_q


class ContactListSerializer(ModelSerializer):
    size = serializers.IntegerField(read_only=True, help_text="How many contacts are on the list.")
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)

    class Meta:
        model = ContactList
        fields = ("id", "name", "description", "size", "created_by", "created_at", "updated_at")
        read_only_fields = ("created_by", "created_at", "updated_at")
        # The service refuses a taken name, case-insensitively, with the field named.
        extra_kwargs = {"name": {"validators": []}}


class ContactListMemberSerializer(serializers.ModelSerializer):
    email = serializers.EmailField(source="contact.email", read_only=True)
    added_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    added_at = DateTimeField(read_only=True)

    class Meta:
        model = ContactListMember
        fields = ("contact", "email", "added_by", "added_at")
        read_only_fields = fields


class ListSelectionSerializer(serializers.Serializer):
    """Who to add or take off: ids, a segment's members, or every contact matching the contact list's
    filters (the same names as GET /api/contacts/ takes); any of them together."""

    contact_ids = IdListField(required=False, default=list)
    segment = PrimaryKeyField(queryset=Segment.objects.all(), required=False, allow_null=True)
    filter = serializers.DictField(child=serializers.CharField(max_length=200), required=False,
                                   help_text='Contact list filters, e.g. {"tag": "vip", "lifecycle_status": "lead"}.')

    def validate_filter(self, value):
        if not value:
            return None
        unknown = sorted(set(value) - set(ContactFilterSet.base_filters))
        if unknown:
            raise serializers.ValidationError(f"Unknown filters: {', '.join(unknown)}.")
        query = QueryDict(mutable=True)
        query.update(value)
        filterset = ContactFilterSet(data=query, queryset=Contact.objects.filter(erased_at__isnull=True))
        if not filterset.is_valid():
            raise serializers.ValidationError({key: list(errors) for key, errors in filterset.errors.items()})
        return filterset.qs

    def validate(self, data):
        if not data["contact_ids"] and not data.get("segment") and data.get("filter") is None:
            raise serializers.ValidationError({"contact_ids": ["Give contact IDs, a segment or a filter."]})
        return data

    def contacts(self):
        data = self.validated_data
        chosen = Contact.objects.filter(pk__in=data["contact_ids"])
        if data.get("segment"):
            chosen = chosen | Contact.objects.filter(rules_q(data["segment"].rules))
        if data.get("filter") is not None:
            chosen = chosen | Contact.objects.filter(pk__in=data["filter"].order_by().values("pk"))
        return chosen


class ContactListViewSet(viewsets.ModelViewSet):
    """Static lists of contacts; `?search=` by name or description. Members are added and taken off by
    the `add` and `remove` actions, in one statement however many are picked."""

    serializer_class = ContactListSerializer
    search_fields = ("name", "description")
    ordering_fields = ("name", "created_at", "updated_at")
    action_permissions = {"add": ["crm.change_contactlist"], "remove": ["crm.change_contactlist"],
                          "members": ["crm.view_contactlist"]}

    def get_queryset(self):
        return selectors.contact_lists().select_related("created_by")

    def perform_create(self, serializer):
        serializer.instance = services.contact_list_create(by=self.request.user, **serializer.validated_data)
        serializer.instance.size = 0

    def perform_update(self, serializer):
        contact_list = services.contact_list_update(contact_list=serializer.instance, **serializer.validated_data)
        serializer.instance = self.get_queryset().get(pk=contact_list.pk)

    def perform_destroy(self, instance):
        services.contact_list_delete(contact_list=instance)

    @extend_schema(responses=ContactListMemberSerializer(many=True))
    @action(detail=True, methods=["get"], filter_backends=[], pagination_class=StandardPagination)
    def members(self, request, pk=None):
        page = self.paginate_queryset(selectors.contact_list_members(self.get_object()))
        return self.get_paginated_response(ContactListMemberSerializer(page, many=True).data)

    def _change(self, request, service, key):
        contact_list = self.get_object()
        given = ListSelectionSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        changed = service(contact_list=contact_list, contacts=given.contacts(),
                          **({"by": request.user} if key == "added" else {}))
        return Response({key: changed, "size": contact_list.memberships.count()})

    @extend_schema(request=ListSelectionSerializer, responses=inline_serializer(
        "ListAdded", {"added": serializers.IntegerField(), "size": serializers.IntegerField()}))
    @action(detail=True, methods=["post"])
    def add(self, request, pk=None):
        """Adds the picked contacts; people already on the list and erased contacts are skipped."""
        return self._change(request, services.contact_list_add, "added")

    @extend_schema(request=ListSelectionSerializer, responses=inline_serializer(
        "ListRemoved", {"removed": serializers.IntegerField(), "size": serializers.IntegerField()}))
    @action(detail=True, methods=["post"])
    def remove(self, request, pk=None):
        return self._change(request, services.contact_list_remove, "removed")
