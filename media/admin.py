from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ActionForm
from django.utils.html import format_html, format_html_join

from aicmo_site.errors import DomainError
from media import services
from media.forms import AdminUploadForm
from media.models import Asset, AssetPerformance, AssetReview, AssetUsage, Library, Rendition
from media.selectors import asset_queryset
from media.suggestions import asset_suggestions


def thumbnail_html(asset: Asset, size: int = 80) -> str:
    thumbnail = next((r for r in asset.renditions.all() if r.preset == "thumbnail"), None)
    if thumbnail is None:
        return format_html('<span class="muted">{}</span>', asset.get_kind_display())
    return format_html('<img src="{}" alt="{}" style="max-width:{}px;max-height:{}px">', thumbnail.url,
                       asset.alt_text, size, size)


@admin.register(Library)
class LibraryAdmin(admin.ModelAdmin):
    list_display = ["name", "owner", "created_at"]
    search_fields = ["name", "description"]

    def save_model(self, request, obj, form, change):
        if change:
            services.library_update(library=obj, **form.cleaned_data)
        else:
            created = services.library_create(**form.cleaned_data)
            obj.pk = created.pk


class TagActionForm(ActionForm):
    tag = forms.CharField(required=False, help_text="For “Add tag”.")


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class RenditionInline(ReadOnlyInline):
    model = Rendition
    fields = readonly_fields = ["preset", "format", "width", "height", "size_bytes", "link"]

    @admin.display(description="URL")
    def link(self, rendition):
        return format_html('<a href="{0}">{0}</a>', rendition.url)


class UsageInline(ReadOnlyInline):
    model = AssetUsage
    fields = readonly_fields = ["used_in_kind", "used_in_id", "campaign_id", "channel", "count", "last_used_at"]


class PerformanceInline(ReadOnlyInline):
    model = AssetPerformance
    fields = readonly_fields = ["day", "channel", "campaign_id", "impressions", "clicks", "conversions"]


class ReviewInline(ReadOnlyInline):
    model = AssetReview
    fields = readonly_fields = ["at", "action", "from_status", "to_status", "by", "note"]


@admin.register(Asset)
class AssetAdmin(admin.ModelAdmin):
    list_display = ["thumbnail", "name", "library", "kind", "status", "orientation", "size_bytes", "created_at"]
    list_display_links = ["thumbnail", "name"]
    list_filter = ["library", "kind", "status", "orientation", "tags"]
    search_fields = ["name", "alt_text", "description"]
    actions = ["submit_selected", "approve_selected", "tag_selected"]
    action_form = TagActionForm
    list_per_page = 48
    fields = ["preview", "library", "name", "alt_text", "description", "licence", "usage_rights", "rights_expire_on",
              "status", "kind", "mime_type", "size_bytes", "width", "height", "sha256", "focal_x", "focal_y",
              "tag_names", "suggestion_list", "uploaded_by", "created_at"]
    readonly_fields = ["preview", "status", "kind", "mime_type", "size_bytes", "width", "height", "sha256", "focal_x",
                       "focal_y", "tag_names", "suggestion_list", "uploaded_by", "created_at"]
    inlines = [RenditionInline, UsageInline, PerformanceInline, ReviewInline]

    def get_queryset(self, request):
        return asset_queryset()

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = AdminUploadForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fields(self, request, obj=None):
        return ["library", "upload", "name", "alt_text"] if obj is None else self.fields

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else self.readonly_fields

    def get_inlines(self, request, obj):
        return self.inlines if obj else []

    def save_model(self, request, obj, form, change):
        if change:
            editable = {name: form.cleaned_data[name] for name in services.EDITABLE_FIELDS if name in form.cleaned_data}
            services.asset_update(asset=obj, **editable)
            return
        asset, created, notice = services.asset_upload(
            library=form.cleaned_data["library"], file=form.cleaned_data["upload"], uploaded_by=request.user,
            name=form.cleaned_data.get("name", ""), alt_text=form.cleaned_data.get("alt_text", ""),
        )
        obj.pk, obj.name = asset.pk, asset.name
        self.message_user(request, notice, messages.SUCCESS if created else messages.WARNING)

    def save_related(self, request, form, formsets, change):
        """Tags change through the bulk action and services, never through the form's m2m."""

    @admin.display(description="")
    def thumbnail(self, asset):
        return thumbnail_html(asset)

    @admin.display(description="Preview")
    def preview(self, asset):
        return thumbnail_html(asset, 320)

    @admin.display(description="Tags")
    def tag_names(self, asset):
        return ", ".join(tag.name for tag in asset.tags.all()) or "—"

    @admin.display(description="Suggestions")
    def suggestion_list(self, asset):
        found = asset_suggestions(asset=asset)
        if not found:
            return "None"
        return format_html("<ul>{}</ul>", format_html_join("", "<li>{}</li>", ((s.message,) for s in found)))

    def _each(self, request, queryset, service, done: str):
        ok, failed = 0, []
        for asset in queryset:
            try:
                service(asset=asset, by=request.user)
                ok += 1
            except DomainError as error:
                failed.append(f"{asset.name}: {error.message}")
        self.message_user(request, f"{ok} asset(s) {done}.", messages.SUCCESS)
        for line in failed:
            self.message_user(request, line, messages.WARNING)

    @admin.action(description="Submit selected assets for review", permissions=["change"])
    def submit_selected(self, request, queryset):
        self._each(request, queryset, services.asset_submit, "submitted")

    @admin.action(description="Approve selected assets", permissions=["approve"])
    def approve_selected(self, request, queryset):
        self._each(request, queryset, services.asset_approve, "approved")

    @admin.action(description="Add tag to selected assets", permissions=["change"])
    def tag_selected(self, request, queryset):
        tag = request.POST.get("tag", "").strip()
        try:
            count = services.asset_tags_add(assets=list(queryset), tags=[tag])
        except DomainError as error:
            self.message_user(request, error.message, messages.ERROR)
            return
        self.message_user(request, f"Tag “{tag}” added to {count} asset(s).", messages.SUCCESS)

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    def has_delete_permission(self, request, obj=None):
        in_use = obj is not None and obj.usages.filter(count__gt=0).exists()
        return super().has_delete_permission(request, obj) and not in_use

    def delete_model(self, request, obj):
        services.asset_delete(asset=obj)

    def has_approve_permission(self, request):
        return request.user.has_perm("media.approve_asset")
