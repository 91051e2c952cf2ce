"""Django admin for watched GitHub repositories (an Admin adds one by name; the figures are read-only) and
for the weather in contacts' cities."""

from django import forms
from django.contrib import admin, messages

from crm import services
from crm.repository_models import GitHubUser, RepositoryRelease, RepositorySnapshot, WatchedRepository
from crm.services.stargazers import stargazers_backfill_start
from crm.weather_models import CityWeather


class RepositorySnapshotInline(admin.TabularInline):
    model = RepositorySnapshot
    fields = ("day", "stars", "forks", "watchers", "open_issues", "releases", "views", "clones", "traffic_available")
    readonly_fields = fields
    ordering = ("-day",)
    extra = 0
    max_num = 0
    can_delete = False


class WatchedRepositoryForm(forms.ModelForm):
    class Meta:
        model = WatchedRepository
        fields = ("full_name", "account")

    def clean_full_name(self):
        value = self.cleaned_data["full_name"]
        if WatchedRepository.objects.filter(full_name__iexact=value).exclude(pk=self.instance.pk).exists():
            raise forms.ValidationError(f"{value} is watched already.")
        return value


@admin.register(WatchedRepository)
class WatchedRepositoryAdmin(admin.ModelAdmin):
    form = WatchedRepositoryForm
    list_display = ("full_name", "account", "polled_at", "not_before", "last_error")
    list_select_related = ("account",)
    search_fields = ("full_name",)
    fields = ("full_name", "account", "added_by", "created_at", "polled_at", "not_before", "last_error")
    readonly_fields = ("added_by", "created_at", "polled_at", "not_before", "last_error")
    inlines = [RepositorySnapshotInline]
    actions = ["backfill_stargazers"]

    @admin.action(description="Backfill stargazers (match them to contacts by public email)")
    def backfill_stargazers(self, request, queryset):
        runs = [stargazers_backfill_start(repository=repository, by=request.user) for repository in queryset]
        self.message_user(request, f"Queued {len(runs)} stargazers backfill(s); follow them under Background work.",
                          messages.SUCCESS)

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields + (("full_name", "account") if obj else ())

    def save_model(self, request, obj, form, change):
        if change:
            return
        obj.pk = services.repository_watch(full_name=obj.full_name, account=obj.account, by=request.user).pk

    def delete_model(self, request, obj):
        services.repository_unwatch(repository=obj)


@admin.register(RepositoryRelease)
class RepositoryReleaseAdmin(admin.ModelAdmin):
    """Releases marked on the trend charts; written by the webhook and the scheduled read."""

    list_display = ("repository_name", "tag", "name", "published_at", "source")
    list_filter = ("source",)
    search_fields = ("repository_name", "tag", "name")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(GitHubUser)
class GitHubUserAdmin(admin.ModelAdmin):
    """GitHub users looked up once for their public email; read-only."""

    list_display = ("login", "email", "contact", "looked_up_at")
    search_fields = ("login", "email")
    list_select_related = ("contact",)
    raw_id_fields = ("contact",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(CityWeather)
class CityWeatherAdmin(admin.ModelAdmin):
    """The weather in contacts' cities, as the hourly refresh last read it; read-only."""

    list_display = ("city", "country", "found", "temperature_c", "condition", "rain_today", "max_temperature_today",
                    "refreshed_at")
    list_filter = ("found", "rain_today", "condition")
    search_fields = ("city", "country")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
