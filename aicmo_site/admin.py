"""The audit log in the Django admin: read only. django-auditlog's own admin lets a cascade delete entries;
here nothing does (retention will be the only remover)."""

from auditlog.admin import LogEntryAdmin
from auditlog.models import LogEntry
from django.contrib import admin


class AuditEntryAdmin(LogEntryAdmin):
    list_display = [*LogEntryAdmin.list_display, "source"]

    @admin.display(description="From")
    def source(self, entry: LogEntry) -> str:
        data = entry.additional_data or {}
        return " · ".join(part for part in (data.get("source", ""), data.get("source_detail", "")) if part)

    def has_delete_permission(self, request, obj=None):
        return False


admin.site.unregister(LogEntry)
admin.site.register(LogEntry, AuditEntryAdmin)
