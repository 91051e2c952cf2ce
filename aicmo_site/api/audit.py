"""/api/audit/: the audit log, read only and for Admins; the same filters as the audit page."""

import django_filters
from auditlog.models import LogEntry
from django.db.models import Q, TextField
from django.db.models.functions import Cast
from rest_framework import mixins, serializers, viewsets
from rest_framework.permissions import BasePermission

from aicmo_site.api.filters import FilterSet
from aicmo_site.audit import AuditSource, audit_entries
from aicmo_site.roles import holds_admin_role


class AuditEntryFilterSet(FilterSet):
    who = django_filters.CharFilter(field_name="actor__username", lookup_expr="iexact", label="Who (username)")
    model = django_filters.CharFilter(method="filter_model", label="What kind (app.model, e.g. crm.contact)")
    object = django_filters.CharFilter(field_name="object_pk", label="Object id")
    source = django_filters.ChoiceFilter(choices=AuditSource.choices, method="filter_source", label="From")
    since = django_filters.DateFilter(field_name="timestamp", lookup_expr="date__gte", label="From date")
    until = django_filters.DateFilter(field_name="timestamp", lookup_expr="date__lte", label="To date")
    q = django_filters.CharFilter(method="filter_q", label="Search")

    class Meta:
        model = LogEntry
        fields = ["who", "model", "object", "source", "since", "until", "q"]

    def filter_model(self, queryset, name, value):
        app_label, _, model = value.lower().partition(".")
        return queryset.filter(content_type__app_label=app_label, content_type__model=model)

    def filter_source(self, queryset, name, value):
        return queryset.filter(additional_data__source=value)

    def filter_q(self, queryset, name, value):
        # The changes' text is searched as stored: a scan, which a search of the log may afford.
        return queryset.alias(changes_as_text=Cast("changes", TextField())).filter(
            Q(object_repr__icontains=value) | Q(changes_as_text__icontains=value) | Q(changes_text__icontains=value)
            | Q(actor__username__icontains=value))


class AuditEntrySerializer(serializers.ModelSerializer):
    who = serializers.SerializerMethodField(help_text="Username, or null for the system")
    model = serializers.SerializerMethodField(help_text="app.model of what changed")
    action = serializers.CharField(source="get_action_display")
    source = serializers.SerializerMethodField(help_text="back_office, admin, api, command, worker or unknown")
    source_detail = serializers.SerializerMethodField(help_text="The page, the token, the command or the task")
    changes = serializers.SerializerMethodField(help_text="{field: [before, after]}; secrets are never shown")
    count = serializers.SerializerMethodField(help_text="Rows changed by a bulk operation; null for one object")
    run = serializers.SerializerMethodField(help_text="The run of a bulk operation")

    class Meta:
        model = LogEntry
        fields = ["id", "timestamp", "who", "model", "object_pk", "object_repr", "action", "source",
                  "source_detail", "changes", "count", "run", "remote_addr"]
        read_only_fields = fields

    def get_who(self, entry) -> str | None:
        return entry.actor.get_username() if entry.actor else None

    def get_model(self, entry) -> str:
        return f"{entry.content_type.app_label}.{entry.content_type.model}"

    def get_source(self, entry) -> str:
        return (entry.additional_data or {}).get("source", AuditSource.UNKNOWN)

    def get_source_detail(self, entry) -> str:
        return (entry.additional_data or {}).get("source_detail", "")

    def get_changes(self, entry) -> dict:
        return entry.changes_dict

    def get_count(self, entry) -> int | None:
        return (entry.additional_data or {}).get("count")

    def get_run(self, entry) -> dict | None:
        return (entry.additional_data or {}).get("run")


class HoldsAdminRole(BasePermission):
    def has_permission(self, request, view) -> bool:
        return holds_admin_role(request.user)


class AuditEntryViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Who changed what, when and from where. Read only: no interface changes or deletes an entry."""

    queryset = audit_entries()
    serializer_class = AuditEntrySerializer
    filterset_class = AuditEntryFilterSet
    permission_classes = [HoldsAdminRole]
    ordering_fields = ["timestamp"]
