"""The Django admin for the CRM: lists, filters and actions; every action calls a service."""

from django import forms
from django.contrib import admin, messages
from django.db.models import Count
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.timezone import localtime

from aicmo_site.errors import DomainError
from crm import selectors, services
from crm.choices import SuppressionReason
from crm.exports import contacts_csv_response
from crm.form_models import FormSubmission, SubscriptionForm
from crm.models import (
    Company,
    Contact,
    ContactList,
    EnrichmentRun,
    GitHubDelivery,
    ImportRun,
    LifecycleTransition,
    Segment,
    SmsConsent,
    StripeEvent,
    Suppression,
    Tag,
    Topic,
)


class TagActionForm(forms.Form):
    tags = forms.CharField(help_text="One or more tag names, separated by commas")


class SuppressActionForm(forms.Form):
    reason = forms.ChoiceField(choices=SuppressionReason.choices, initial=SuppressionReason.MANUAL)


def _enrich(modeladmin, request, queryset, *, verify_only: bool):
    try:
        run = services.enrichment_run_create(by=request.user, contact_ids=list(queryset.values_list("pk", flat=True)),
                                             verify_only=verify_only)
    except DomainError as error:
        modeladmin.message_user(request, error.message, messages.ERROR)
        return
    link = reverse("crm:enrichment-run", args=[run.pk])
    modeladmin.message_user(request, format_html('Run {} queued {} contacts. <a href="{}">Follow its progress</a>.',
                                                 run.pk, run.total, link))


@admin.action(description="Enrich and verify the selected contacts", permissions=["enrich"])
def enrich_contacts(modeladmin, request, queryset):
    _enrich(modeladmin, request, queryset, verify_only=False)


@admin.action(description="Verify the emails of the selected contacts", permissions=["enrich"])
def verify_contacts(modeladmin, request, queryset):
    _enrich(modeladmin, request, queryset, verify_only=True)


def _form_step(modeladmin, request, queryset, *, form_class, title, template="crm/admin/contact_action.html"):
    """An action's intermediate page: the form, bound once the person presses Apply."""
    form = form_class(request.POST if "apply" in request.POST else None)
    if form.is_bound and form.is_valid():
        return form, None
    context = {**modeladmin.admin_site.each_context(request), "title": title, "form": form, "queryset": queryset,
               "count": queryset.count(), "action": request.POST.get("action"), "opts": modeladmin.model._meta,
               "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME}
    return None, TemplateResponse(request, template, context)


def _tags_step(modeladmin, request, queryset, *, title: str, service, done: str):
    form, page = _form_step(modeladmin, request, queryset, form_class=TagActionForm, title=title)
    if page:
        return page
    changed = service(contacts=queryset, tag_names=form.cleaned_data["tags"].split(","))
    modeladmin.message_user(request, f"{changed} tags {done}.")
    return None


@admin.action(description="Add tags to the selected contacts", permissions=["change"])
def tag_contacts(modeladmin, request, queryset):
    return _tags_step(modeladmin, request, queryset, title="Add tags", service=services.contacts_tag, done="added")


@admin.action(description="Remove tags from the selected contacts", permissions=["change"])
def untag_contacts(modeladmin, request, queryset):
    return _tags_step(modeladmin, request, queryset, title="Remove tags", service=services.contacts_untag,
                      done="removed")


@admin.action(description="Suppress the selected addresses from all email", permissions=["change"])
def suppress_contacts(modeladmin, request, queryset):
    form, page = _form_step(modeladmin, request, queryset, form_class=SuppressActionForm,
                            title="Suppress these addresses from all email")
    if page:
        return page
    for email in queryset.values_list("email", flat=True):
        services.suppression_add(value=email, reason=form.cleaned_data["reason"], source=f"admin:{request.user}")
    modeladmin.message_user(request, f"{queryset.count()} addresses suppressed.")


@admin.action(description="Export the selected contacts as CSV", permissions=["view"])
def export_contacts(modeladmin, request, queryset):
    return contacts_csv_response(queryset)


@admin.register(Contact)
class ContactAdmin(admin.ModelAdmin):
    list_display = ("email", "first_name", "last_name", "company", "lifecycle_status", "email_status",
                    "engagement_score", "engagement_tier", "value_tier", "created_at")
    list_filter = ("lifecycle_status", "email_status", "engagement_tier", "value_tier", "consent_status", "tags",
                   "topics", "source", "created_at")
    search_fields = ("email", "first_name", "last_name", "company__name", "domain")
    list_select_related = ("company",)
    autocomplete_fields = ("company",)
    filter_horizontal = ("tags", "topics")
    readonly_fields = ("domain", "lifecycle_status", "email_status", "consent_status", "consent_changed_at",
                       "consent_source", "field_sources", "engagement_score", "engagement_tier", "soft_bounce_count",
                       "last_activity_at", "stripe_customer_id", "lifetime_value", "value_tier", "erased_at",
                       "created_at", "updated_at", "timeline")
    actions = (enrich_contacts, verify_contacts, tag_contacts, untag_contacts, suppress_contacts, export_contacts)
    fieldsets = (
        (None, {"fields": ("email", "domain", "first_name", "last_name", "job_title", "phone", "company",
                           "linkedin_url", "city", "country", "source", "tags", "topics", "custom_fields")}),
        ("Status", {"fields": ("lifecycle_status", "email_status", "consent_status", "consent_changed_at",
                               "consent_source", "engagement_score", "engagement_tier", "soft_bounce_count",
                               "last_activity_at")}),
        ("Payments", {"fields": ("stripe_customer_id", "lifetime_value", "value_tier")}),
        ("Provenance", {"fields": ("field_sources", "erased_at", "created_at", "updated_at")}),
        ("Timeline", {"fields": ("timeline",)}),
    )

    def has_enrich_permission(self, request):
        return request.user.has_perm("crm.add_enrichmentrun")

    @admin.display(description="Timeline")
    def timeline(self, obj):
        if not obj.pk:
            return "-"
        rows = [format_html("<tr><td>{}</td><td>{}</td><td>{}</td></tr>", date_format(localtime(e["at"]), "Y-m-d H:i"),
                            e["title"], e["detail"] or "") for e in selectors.contact_timeline(obj, limit=50)]
        return format_html("<table><tr><th>When</th><th>What</th><th>Detail</th></tr>{}</table>",
                           format_html("".join(["{}"] * len(rows)), *rows)) if rows else "Nothing yet."

    def save_model(self, request, obj, form, change):
        fields = {name: form.cleaned_data[name] for name in form.changed_data if name not in ("tags", "topics")}
        if change:
            services.contact_update(contact=Contact.objects.get(pk=obj.pk), by=request.user, **fields)
        else:
            obj.pk = services.contact_create(by=request.user, **fields).pk

    def save_related(self, request, form, formsets, change):
        # Topics go through their service (which notes the change on the timeline), not save_m2m.
        topics = form.cleaned_data.pop("topics", None)
        super().save_related(request, form, formsets, change)
        if topics is not None and "topics" in form.changed_data:
            services.contact_topics_set(contact=form.instance, topics=topics, source="admin", by=request.user)

    def delete_model(self, request, obj):
        services.contact_delete(contact=obj)


@admin.register(Company)
class CompanyAdmin(admin.ModelAdmin):
    list_display = ("name", "domain", "industry", "size", "created_at")
    search_fields = ("name", "domain")
    list_filter = ("industry", "size")

    def save_model(self, request, obj, form, change):
        fields = {name: form.cleaned_data[name] for name in form.changed_data}
        if change:
            services.company_update(company=Company.objects.get(pk=obj.pk), **fields)
        else:
            obj.pk = services.company_create(**fields).pk

    def delete_model(self, request, obj):
        services.company_delete(company=obj)

    def delete_queryset(self, request, queryset):
        for company in queryset:
            services.company_delete(company=company)


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    list_display = ("name", "color")
    search_fields = ("name",)


@admin.register(SmsConsent)
class SmsConsentAdmin(admin.ModelAdmin):
    """Read only: consent changes through the contact page and the contact's own STOP/START replies,
    which record how it changed."""

    list_display = ("number", "consent", "contact", "source", "changed_at")
    list_filter = ("consent",)
    search_fields = ("number", "contact__email")
    list_select_related = ("contact",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Topic)
class TopicAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "public", "description")
    list_filter = ("public",)
    search_fields = ("name", "slug", "description")
    prepopulated_fields = {"slug": ("name",)}

    def save_model(self, request, obj, form, change):
        fields = {name: form.cleaned_data[name] for name in ("name", "slug", "description", "public")}
        if change:
            services.topic_update(topic=Topic.objects.get(pk=obj.pk), **fields)
        else:
            obj.pk = services.topic_create(**fields).pk

    def delete_model(self, request, obj):
        services.topic_delete(topic=obj)


@admin.register(Segment)
class SegmentAdmin(admin.ModelAdmin):
    list_display = ("name", "description", "reading_grade", "created_by", "updated_at")
    search_fields = ("name", "description")
    readonly_fields = ("created_by", "created_at", "updated_at")

    def save_model(self, request, obj, form, change):
        fields = {name: form.cleaned_data[name] for name in ("name", "description", "rules", "reading_grade")}
        if change:
            services.segment_update(segment=Segment.objects.get(pk=obj.pk), **fields)
        else:
            obj.pk = services.segment_create(by=request.user, **fields).pk


class ContactListAdminForm(forms.ModelForm):
    class Meta:
        model = ContactList
        fields = ("name", "description")

    def clean_name(self):
        # The service refuses a name taken in another case; said here as a field error, not a crash.
        name = self.cleaned_data["name"].strip()
        if ContactList.objects.filter(name__iexact=name).exclude(pk=self.instance.pk).exists():
            raise forms.ValidationError(f"A list named {name!r} already exists.")
        return name


@admin.register(ContactList)
class ContactListAdmin(admin.ModelAdmin):
    """Raw data for administrators; marketers use /contacts/lists/. Members are changed there or by the API."""

    form = ContactListAdminForm
    list_display = ("name", "size", "created_by", "updated_at")
    search_fields = ("name", "description")
    fields = ("name", "description", "created_by", "created_at", "updated_at")
    readonly_fields = ("created_by", "created_at", "updated_at")

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(size=Count("memberships")).select_related("created_by")

    @admin.display(description="Members", ordering="size")
    def size(self, obj) -> int:
        return obj.size

    def save_model(self, request, obj, form, change):
        fields = {name: form.cleaned_data[name] for name in ("name", "description")}
        if change:
            services.contact_list_update(contact_list=ContactList.objects.get(pk=obj.pk), **fields)
        else:
            obj.pk = services.contact_list_create(by=request.user, **fields).pk

    def delete_model(self, request, obj):
        services.contact_list_delete(contact_list=obj)


@admin.register(Suppression)
class SuppressionAdmin(admin.ModelAdmin):
    list_display = ("value", "kind", "reason", "source", "created_at")
    list_filter = ("kind", "reason")
    search_fields = ("value", "source")
    fields = ("value", "reason", "source")

    def has_change_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        obj.pk = services.suppression_add(value=form.cleaned_data["value"], reason=form.cleaned_data["reason"],
                                          source=form.cleaned_data["source"] or f"admin:{request.user}").pk


@admin.register(EnrichmentRun)
class EnrichmentRunAdmin(admin.ModelAdmin):
    list_display = ("id", "status", "requested_by", "total", "queued", "enriched", "verified", "failed", "skipped",
                    "created_at", "finished_at")
    list_filter = ("status",)
    readonly_fields = [field.name for field in EnrichmentRun._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(LifecycleTransition)
class LifecycleTransitionAdmin(admin.ModelAdmin):
    list_display = ("contact", "from_status", "to_status", "by", "by_system", "created_at")
    list_filter = ("to_status", "by_system")
    search_fields = ("contact__email", "reason")
    list_select_related = ("contact", "by")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class WebhookRecordAdmin(admin.ModelAdmin):
    """A provider's deliveries as applied; written by its webhook alone."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(StripeEvent)
class StripeEventAdmin(WebhookRecordAdmin):
    """Which Stripe events were applied (each once); read-only, written by the webhook alone."""

    list_display = ("event_id", "type", "contact", "received_at")
    list_filter = ("type",)
    search_fields = ("event_id", "contact__email")
    list_select_related = ("contact",)


@admin.register(GitHubDelivery)
class GitHubDeliveryAdmin(WebhookRecordAdmin):
    """Which GitHub deliveries were applied (each once); read-only, written by the webhook alone."""

    list_display = ("delivery_id", "event", "contact", "received_at")
    list_filter = ("event",)
    search_fields = ("delivery_id", "contact__email")
    list_select_related = ("contact",)


class ImportUploadForm(forms.ModelForm):
    upload = forms.FileField(help_text="A CSV file: UTF-8 (with or without BOM) or Latin-1, comma or semicolon")

    class Meta:
        model = ImportRun
        fields = ("policy", "tag")

    def clean_upload(self):
        from crm.imports.run import import_preview

        upload = self.cleaned_data["upload"]
        try:
            import_preview(upload=upload)
        except DomainError as error:
            raise forms.ValidationError(error.message)
        upload.seek(0)
        return upload


@admin.register(ImportRun)
class ImportRunAdmin(admin.ModelAdmin):
    """Upload here to import with the automatic column mapping; the back office offers mapping by hand."""

    list_display = ("id", "original_name", "status", "total_rows", "processed_rows", "created_count",
                    "updated_count", "skipped_count", "failed_count", "created_at")
    list_filter = ("status", "policy")
    search_fields = ("original_name",)

    def get_form(self, request, obj=None, **kwargs):
        return ImportUploadForm if obj is None else super().get_form(request, obj, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in ImportRun._meta.fields] if obj else []

    def has_change_permission(self, request, obj=None):
        return obj is None and super().has_change_permission(request, obj)

    def save_model(self, request, obj, form, change):
        from crm.imports.run import import_run_create, import_run_start

        upload = form.cleaned_data["upload"]
        run = import_run_create(upload=upload, original_name=upload.name, policy=form.cleaned_data["policy"],
                                tag=form.cleaned_data["tag"], by=request.user)
        obj.pk = import_run_start(run=run).pk


@admin.register(SubscriptionForm)
class SubscriptionFormAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "double_opt_in", "updated_at")
    list_filter = ("double_opt_in",)
    search_fields = ("name", "slug")
    filter_horizontal = ("topics", "tags")

    def save_model(self, request, obj, form, change):
        fields = {name: form.cleaned_data[name] for name in services.forms.FORM_FIELDS if name in form.cleaned_data}
        if change:
            services.form_update(form=obj, **fields)
        else:
            form.instance = services.form_create(by=request.user, **fields)

    def save_related(self, request, form, formsets, change):
        form.instance.topics.set(form.cleaned_data["topics"])
        form.instance.tags.set(form.cleaned_data["tags"])

    def delete_model(self, request, obj):
        services.form_delete(form=obj)


@admin.register(FormSubmission)
class FormSubmissionAdmin(admin.ModelAdmin):
    """Consent records are evidence: shown, never edited here."""

    list_display = ("email", "form", "submitted_at", "confirmed_at", "confirmation_sent_at")
    list_filter = ("form", ("confirmed_at", admin.EmptyFieldListFilter))
    search_fields = ("email",)
    list_select_related = ("form",)
    raw_id_fields = ("contact",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


# Repositories live in their own module to keep this one readable; importing it registers them.
from crm import repository_admin  # noqa: E402, F401
