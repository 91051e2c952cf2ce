from django.contrib import admin

from aicmo_site.roles import ADMIN, user_roles
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
    """Admins only, reads included: a Slack or Discord webhook URL lets anyone post to the channel."""

    list_display = ("name", "kind", "repeat_minutes", "active")

    def has_view_permission(self, request, obj=None):
        return ADMIN in user_roles(request.user)

    def has_module_permission(self, request):
        return ADMIN in user_roles(request.user)


@admin.register(AlertNotice)
class AlertNoticeAdmin(admin.ModelAdmin):
    list_display = ("alert", "channel", "kind", "sent_at", "ok", "error")
    list_filter = ("kind", "ok")
    list_select_related = ("alert", "channel")
