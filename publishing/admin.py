"""The admin: the approval queue (content in review with every channel version previewed; approve or
request changes one by one or in bulk) and the data behind campaigns and jobs. Every change of state
goes through a service."""

from django.contrib import admin, messages
from django.db.models import Prefetch
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils.safestring import mark_safe

from aicmo_site.errors import DomainError
from aicmo_site.transitions import admin_actions_permitted
from publishing import services
from publishing.checks import FAIL, content_checks, readability_targets, segment_reading_grades
from publishing.choices import CampaignStatus, ContentStatus
from publishing.markdown import render_markdown
from publishing.models import (
    BlockingCheck,
    Campaign,
    CampaignContent,
    Channel,
    ChannelVersion,
    Content,
    ContentAnalysis,
    ContentEvent,
    JobEvent,
    MetricSnapshot,
    PublishingJob,
    ReviewQueue,
)


def _each(modeladmin, request, queryset, call, done: str) -> None:
    """Run `call` on each object; one refusal never stops the others, and each is reported."""
    ok = 0
    for obj in queryset:
        try:
            call(obj)
            ok += 1
        except DomainError as error:
            modeladmin.message_user(request, f"{obj}: {error.message}", messages.ERROR)
    if ok:
        modeladmin.message_user(request, f"{done}: {ok}.", messages.SUCCESS)


class ContentEventInline(admin.TabularInline):
    model = ContentEvent
    extra = 0
    can_delete = False
    fields = ["created_at", "action", "from_status", "to_status", "by", "note", "changes"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Content)
class ContentAdmin(admin.ModelAdmin):
    list_display = ["title", "kind", "status", "urgent", "author", "updated_at"]
    list_filter = ["status", "kind", "urgent"]
    search_fields = ["title", "summary", "body"]
    readonly_fields = ["status", "published_at", "versions_preview", "body_preview"]
    fields = ["kind", "title", "slug", "summary", "body", "body_preview", "tags", "categories", "link_url",
              "status", "published_at", "versions_preview"]
    inlines = [ContentEventInline]
    actions = ["approve_selected", "request_changes_selected", "submit_selected"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("author").prefetch_related(
            Prefetch("versions", queryset=ChannelVersion.objects.prefetch_related("media")))

    @admin.display(description="Article")
    def body_preview(self, obj):
        return render_markdown(obj.body) if obj and obj.pk else "—"

    @admin.display(description="Channel versions as they will appear")
    def versions_preview(self, obj):
        if not obj or not obj.pk:
            return "—"
        previews = [services.version_preview(v) for v in obj.versions.all()]
        if not previews:
            return "No channel versions yet."
        return mark_safe(render_to_string("admin/publishing/versions_preview.html", {"previews": previews}))  # noqa: S308

    def save_model(self, request, obj, form, change):
        data = {name: form.cleaned_data[name] for name in services.content.EDITABLE_FIELDS if name in form.cleaned_data}
        if change:
            fresh = Content.objects.get(pk=obj.pk)
            services.content_update(content=fresh, by=request.user, **data)
        else:
            created = services.content_create(by=request.user, **data)
            obj.pk = created.pk

    def get_actions(self, request):
        return admin_actions_permitted(super().get_actions(request), services.content.CONTENT_WORKFLOW, request.user)

    @admin.action(description="Submit for review")
    def submit_selected(self, request, queryset):
        _each(self, request, queryset, lambda c: services.content_submit(content=c, by=request.user), "Submitted")

    @admin.action(description="Approve")
    def approve_selected(self, request, queryset):
        _each(self, request, queryset, lambda c: services.content_approve(content=c, by=request.user), "Approved")

    @admin.action(description="Request changes…")
    def request_changes_selected(self, request, queryset):
        note = request.POST.get("note", "").strip()
        if "apply" in request.POST and note:
            _each(self, request, queryset,
                  lambda c: services.content_request_changes(content=c, by=request.user, note=note),
                  "Changes requested")
            return None
        if "apply" in request.POST:
            self.message_user(request, "Say what should change.", messages.ERROR)
        return render(request, "admin/publishing/request_changes.html", {
            **self.admin_site.each_context(request), "contents": queryset, "opts": self.model._meta,
            "action": "request_changes_selected", "title": "Request changes",
        })


@admin.register(ReviewQueue)
class ReviewQueueAdmin(ContentAdmin):
    list_display = ["title", "kind", "author", "updated_at", "channel_versions"]
    list_filter = ["kind"]

    def get_queryset(self, request):
        return (ReviewQueue.objects.filter(status=ContentStatus.IN_REVIEW).select_related("author", "link_report")
                .prefetch_related(Prefetch("versions",
                                           queryset=ChannelVersion.objects.prefetch_related("media__renditions")),
                                  "media", "campaigns"))

    def get_list_display(self, request):
        # Read once per page, not per row: the column's function closes over them.
        targets, segment_grades = readability_targets(), segment_reading_grades()
        blocking = set(BlockingCheck.objects.values_list("key", flat=True))

        @admin.display(description="Failing checks")
        def failing_checks(obj):
            failing = [check for check in content_checks(obj, targets=targets, segment_grades=segment_grades)
                       if check.outcome == FAIL]
            return "; ".join(f"{check.label}{' (blocks approval)' if check.key in blocking else ''}"
                             for check in failing) or "None"

        return [*self.list_display, failing_checks]

    @admin.display(description="Versions")
    def channel_versions(self, obj):
        return ", ".join(v.kind for v in obj.versions.all()) or "—"

    def has_add_permission(self, request):
        return False


@admin.register(ChannelVersion)
class ChannelVersionAdmin(admin.ModelAdmin):
    list_display = ["content", "kind", "edited_by_hand", "updated_at"]
    list_filter = ["kind", "edited_by_hand"]
    search_fields = ["content__title", "body"]
    readonly_fields = ["content", "kind", "edited_by_hand", "preview"]
    fields = ["content", "kind", "title", "body", "hashtags", "mentions", "cta_text", "cta_url", "media",
              "edited_by_hand", "preview"]
    raw_id_fields = ["media"]

    @admin.display(description="Preview")
    def preview(self, obj):
        return mark_safe(render_to_string("admin/publishing/versions_preview.html",  # noqa: S308
                                          {"previews": [services.version_preview(obj)]}))

    def save_model(self, request, obj, form, change):
        fields = {name: form.cleaned_data[name] for name in services.versions.VERSION_FIELDS}
        services.version_update(version=ChannelVersion.objects.get(pk=obj.pk), by=request.user, **fields)

    def has_add_permission(self, request):
        return False


@admin.register(Channel)
class ChannelAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "kind", "provider_account", "active"]
    list_filter = ["kind", "active"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}

    def save_model(self, request, obj, form, change):
        data = {name: form.cleaned_data[name] for name in services.channels.CHANNEL_FIELDS}
        if change:
            services.channel_update(channel=Channel.objects.get(pk=obj.pk), **data)
        else:
            obj.pk = services.channel_create(**data).pk


CAMPAIGN_FIELDS = ("name", "description", "starts_at", "ends_at", "audience", "budget", "bid_settings",
                   "utm_enabled", "utm_source", "utm_medium", "utm_campaign", "reading_grade")


class CampaignContentInline(admin.TabularInline):
    model = CampaignContent
    extra = 1
    autocomplete_fields = ["content"]


class JobInline(admin.TabularInline):
    model = PublishingJob
    extra = 0
    can_delete = False
    fields = ["content", "channel", "status", "scheduled_at", "attempts", "external_url", "error_message"]
    readonly_fields = fields
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Campaign)
class CampaignAdmin(admin.ModelAdmin):
    list_display = ["name", "status", "starts_at", "ends_at", "budget", "spend"]
    list_filter = ["status"]
    search_fields = ["name", "description"]
    filter_horizontal = ["channels"]
    readonly_fields = ["status", "spend", "activated_at"]
    inlines = [CampaignContentInline, JobInline]
    actions = ["activate_selected", "pause_selected", "resume_selected", "cancel_selected"]

    def get_readonly_fields(self, request, obj=None):
        if obj and obj.status != CampaignStatus.DRAFT:
            return [f.name for f in Campaign._meta.fields if f.name != "id"] + ["channels"]
        return self.readonly_fields

    def save_model(self, request, obj, form, change):
        """Contents and channels are saved with the form's relations right after."""
        fields = {name: form.cleaned_data[name] for name in CAMPAIGN_FIELDS if name in form.cleaned_data}
        if change:
            services.campaign_update(campaign=Campaign.objects.get(pk=obj.pk), by=request.user, **fields)
        else:
            created = services.campaign_create(by=request.user, **fields)
            obj.pk, obj.created_at = created.pk, created.created_at

    def get_actions(self, request):
        return admin_actions_permitted(super().get_actions(request), services.campaign_workflow.CAMPAIGN_WORKFLOW,
                                       request.user)

    def _step(self, request, queryset, service, done):
        _each(self, request, queryset, lambda c: service(campaign=c, by=request.user), done)

    @admin.action(description="Activate (create the jobs)")
    def activate_selected(self, request, queryset):
        self._step(request, queryset, services.campaign_activate, "Activated")

    @admin.action(description="Pause")
    def pause_selected(self, request, queryset):
        self._step(request, queryset, services.campaign_pause, "Paused")

    @admin.action(description="Resume")
    def resume_selected(self, request, queryset):
        self._step(request, queryset, services.campaign_resume, "Resumed")

    @admin.action(description="Cancel")
    def cancel_selected(self, request, queryset):
        self._step(request, queryset, services.campaign_cancel, "Canceled")


class JobEventInline(admin.TabularInline):
    model = JobEvent
    extra = 0
    can_delete = False
    fields = ["created_at", "from_status", "to_status", "by", "by_system", "note"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(PublishingJob)
class PublishingJobAdmin(admin.ModelAdmin):
    list_display = ["pk", "content", "channel", "campaign", "status", "urgent", "scheduled_at", "attempts",
                    "published_at"]
    list_filter = ["status", "urgent", "channel", "campaign"]
    search_fields = ["content__title", "campaign__name", "error_message", "external_id"]
    date_hierarchy = "scheduled_at"
    list_select_related = ["content", "channel", "campaign"]
    readonly_fields = [f.name for f in PublishingJob._meta.fields]
    inlines = [JobEventInline]
    actions = ["retry_selected", "cancel_selected"]

    def has_add_permission(self, request):
        return False

    def get_actions(self, request):
        return admin_actions_permitted(super().get_actions(request), services.jobs.JOB_WORKFLOW, request.user)

    @admin.action(description="Retry")
    def retry_selected(self, request, queryset):
        _each(self, request, queryset, lambda j: services.job_retry(job=j, by=request.user), "Retried")

    @admin.action(description="Cancel")
    def cancel_selected(self, request, queryset):
        _each(self, request, queryset, lambda j: services.job_cancel(job=j, by=request.user), "Canceled")


@admin.register(MetricSnapshot)
class MetricSnapshotAdmin(admin.ModelAdmin):
    list_display = ["job", "taken_at", "impressions", "clicks", "engagements", "conversions", "spend", "source"]
    list_filter = ["source"]
    list_select_related = ["job__content", "job__channel"]
    raw_id_fields = ["job"]
@admin.register(ContentAnalysis)
class ContentAnalysisAdmin(admin.ModelAdmin):
    """Read-only: analyses are made by publishing.services.analysis; the engine column says which."""

    list_display = ["content", "kind", "engine", "status", "quality_score", "relevance_score", "provider",
                    "cost_estimate", "created_at"]
    list_filter = ["engine", "status", "kind"]
    list_select_related = ["content"]
    search_fields = ["content__title", "error"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


import publishing.email.admin  # noqa: E402,F401 - registers the email campaign admin
