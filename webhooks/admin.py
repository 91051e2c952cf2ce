from django.contrib import admin

from webhooks.models import WebhookDelivery, WebhookMessage, WebhookSubscription


@admin.register(WebhookSubscription)
class WebhookSubscriptionAdmin(admin.ModelAdmin):
    """Read-only here: subscriptions are created in the back office or the API, which show the secret once."""

    list_display = ("name", "url", "active", "created")
    list_filter = ("active",)
    search_fields = ("name", "url")
    readonly_fields = ("name", "url", "events", "active", "created_by", "created", "updated")

    def has_add_permission(self, request):
        return False


class WebhookDeliveryInline(admin.TabularInline):
    model = WebhookDelivery
    extra = 0
    can_delete = False
    readonly_fields = ("attempted_at", "status_code", "succeeded", "error", "response_body", "duration_ms")


@admin.register(WebhookMessage)
class WebhookMessageAdmin(admin.ModelAdmin):
    list_display = ("message_id", "event", "subscription", "status", "attempts", "last_status_code", "created")
    list_filter = ("status", "event")
    search_fields = ("message_id",)
    list_select_related = ("subscription",)
    readonly_fields = [f.name for f in WebhookMessage._meta.fields]
    inlines = [WebhookDeliveryInline]

    def has_add_permission(self, request):
        return False
