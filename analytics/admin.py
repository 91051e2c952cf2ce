from django.contrib import admin

from analytics.models import CampaignChannelDay, ContactScore, ContentChannelDay, FoldCheckpoint


class ReadOnlyAdmin(admin.ModelAdmin):
    """Derived data: recomputed by folds and rebuilds, never edited by hand."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(CampaignChannelDay)
class CampaignChannelDayAdmin(ReadOnlyAdmin):
    list_display = ("day", "campaign_id", "channel", "sent", "opens", "clicks", "conversions", "revenue")
    list_filter = ("channel",)
    date_hierarchy = "day"


@admin.register(ContentChannelDay)
class ContentChannelDayAdmin(ReadOnlyAdmin):
    list_display = ("day", "campaign_id", "content_id", "channel", "impressions", "clicks", "spend")
    list_filter = ("channel",)
    date_hierarchy = "day"


@admin.register(ContactScore)
class ContactScoreAdmin(ReadOnlyAdmin):
    list_display = ("contact", "score", "tier", "lifetime_value", "computed_at")
    list_filter = ("tier",)
    list_select_related = ("contact",)
    search_fields = ("contact__email",)


@admin.register(FoldCheckpoint)
class FoldCheckpointAdmin(ReadOnlyAdmin):
    list_display = ("name", "last_id", "rows_folded", "folded_at", "rebuilt_at")
