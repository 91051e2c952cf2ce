from django.contrib import admin

from alerts.models import Alert, AlertChannel, AlertNotice


@admin.register(Alert)
class AlertAdmin(admin.ModelAdmin):
    list_display = ("title", "rule", "status", "opened_at", "resolved_at")
    list_filter = ("status", "rule")
    readonly_fields = [f.name for f in Alert._meta.fields]

    def has_add_permission(self, request):
        return False


@admin.register(AlertChannel)
class AlertChannelAdmin(admin.ModelAdmin):
    list_display = ("name", "kind", "repeat_minutes", "active")


@admin.register(AlertNotice)
class AlertNoticeAdmin(admin.ModelAdmin):
    list_display = ("alert", "channel", "kind", "sent_at", "ok", "error")
    list_filter = ("kind", "ok")
    list_select_related = ("alert", "channel")
