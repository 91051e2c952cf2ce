"""Raw data of journeys for administrators; marketers work through the API and back-office pages.
Read-only: a status or a contact's place changes only through the services (the runner's rules)."""

from django.contrib import admin

from automation.models import Journey, JourneyEnrolment, JourneyNotification, JourneyStep, JourneyStepRun, Task


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields]


class JourneyStepInline(admin.TabularInline):
    model = JourneyStep
    fields = ("position", "key", "kind", "config", "next", "other", "email_campaign")
    readonly_fields = fields
    extra = 0
    can_delete = False


@admin.register(Journey)
class JourneyAdmin(ReadOnlyAdmin):
    list_display = ("name", "status", "reentry", "activated_at", "created_at")
    list_filter = ("status", "reentry")
    search_fields = ("name",)
    inlines = [JourneyStepInline]


@admin.register(JourneyEnrolment)
class JourneyEnrolmentAdmin(ReadOnlyAdmin):
    list_display = ("journey", "contact", "step", "status", "due_at", "visit", "exit_reason")
    list_filter = ("status", "journey")
    list_select_related = ("journey", "contact", "step")
    raw_id_fields = ("contact",)


@admin.register(JourneyStepRun)
class JourneyStepRunAdmin(ReadOnlyAdmin):
    list_display = ("enrolment", "step", "visit", "outcome", "ran_at")
    list_filter = ("outcome",)
    list_select_related = ("enrolment", "step")


@admin.register(JourneyNotification)
class JourneyNotificationAdmin(ReadOnlyAdmin):
    list_display = ("step", "user", "status", "created_at", "sent_at")
    list_filter = ("status",)
    list_select_related = ("step", "user")


@admin.register(Task)
class TaskAdmin(admin.ModelAdmin):
    list_display = ("title", "contact", "assignee", "due_on", "done")
    list_filter = ("done", "assignee")
    list_select_related = ("contact", "assignee")
    search_fields = ("title", "contact__email")
    raw_id_fields = ("contact",)
