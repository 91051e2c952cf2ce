"""Admin of email campaigns: every action calls a service; progress and A/B results are read-only."""

from django import forms
from django.contrib import admin, messages
from django.utils.html import format_html

from aicmo_site.errors import DomainError
from publishing.email import selectors, services
from publishing.email.forms import FormatOptional
from publishing.email.models import (
    ABTest,
    ABVariant,
    EmailBlock,
    EmailCampaign,
    EmailCampaignEvent,
    EmailDelivery,
    EmailLayout,
    EmailTemplate,
    InboundEvent,
)
from publishing.email.rendering import check_template
from publishing.email.services import ab_tests
from publishing.email.services.blocks import AUDIENCES, BLOCK_FIELDS
from publishing.email.services.brand import (
    LAYOUT_FIELDS,
    email_layout_check,
    email_layout_create,
    email_layout_delete,
    email_layout_update,
)
from publishing.email.services.templates import TEMPLATE_FIELDS, check_template_sources


class SandboxCheckedForm(forms.ModelForm):
    """Template syntax errors become form errors on the field, not a failed save."""

    checked_fields: tuple[str, ...] = ()

    def clean(self):
        cleaned = super().clean()
        for name in self.checked_fields:
            try:
                check_template(cleaned.get(name) or "", field_name=name)
            except DomainError as exc:
                self.add_error(name, exc.message)
        return cleaned


class EmailBlockForm(SandboxCheckedForm):
    checked_fields = ("html",)

    class Meta:
        model = EmailBlock
        fields = [*BLOCK_FIELDS, *AUDIENCES]


class EmailBlockInline(admin.StackedInline):
    model = EmailBlock
    form = EmailBlockForm
    extra = 0
    autocomplete_fields = ["tags", "segments"]


class EmailTemplateForm(FormatOptional):
    """Checked as the services check it: the body in its layout, compiled from MJML."""

    class Meta:
        model = EmailTemplate
        fields = list(TEMPLATE_FIELDS)

    def clean(self):
        cleaned = super().clean()
        candidate = EmailTemplate(**{name: cleaned.get(name) for name in TEMPLATE_FIELDS if name in cleaned})
        try:
            check_template_sources(candidate)
        except DomainError as exc:
            field = exc.extra.get("field")
            self.add_error(field if field in self.fields else None,
                           exc.message.removeprefix(f"{field}: ") if field else exc.message)
        return cleaned


class EmailLayoutForm(forms.ModelForm):
    class Meta:
        model = EmailLayout
        fields = list(LAYOUT_FIELDS)

    def clean(self):
        cleaned = super().clean()
        try:
            fields = {name: cleaned.get(name) or "" for name in LAYOUT_FIELDS}
            email_layout_check(EmailLayout(pk=self.instance.pk, **fields))
        except DomainError as exc:
            self.add_error("body", exc.message.removeprefix("body: "))
        return cleaned


@admin.register(EmailLayout)
class EmailLayoutAdmin(admin.ModelAdmin):
    """Writes through the services, which refuse a layout that no longer reads or breaks its templates."""

    form = EmailLayoutForm
    list_display = ["name", "format", "updated_at"]
    search_fields = ["name"]

    def save_model(self, request, obj, form, change):
        fields = {name: form.cleaned_data[name] for name in LAYOUT_FIELDS}
        if change:
            email_layout_update(layout=obj, **fields)
        else:
            _adopt(obj, email_layout_create(by=request.user, **fields))

    def delete_model(self, request, obj):
        email_layout_delete(layout=obj)


def _adopt(obj, saved) -> None:
    """Give the admin's object the identity of the one the service saved, so inlines attach to it."""
    obj.pk = saved.pk
    obj.__dict__.update({k: v for k, v in saved.__dict__.items() if not k.startswith("_")})
    obj._state.adding = False
    obj._state.db = saved._state.db


@admin.register(EmailTemplate)
class EmailTemplateAdmin(admin.ModelAdmin):
    form = EmailTemplateForm
    list_display = ["name", "subject", "updated_at"]
    search_fields = ["name", "subject"]
    inlines = [EmailBlockInline]

    def save_model(self, request, obj, form, change):
        fields = {name: form.cleaned_data[name] for name in TEMPLATE_FIELDS}
        if change:
            services.email_template_update(template=obj, **fields)
        else:
            _adopt(obj, services.email_template_create(by=request.user, **fields))

    def save_formset(self, request, form, formset, change):
        if formset.model is not EmailBlock:
            return super().save_formset(request, form, formset, change)
        # What formset.save() would have noted, for the admin's change message.
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        for block_form in formset.forms:
            block = block_form.instance
            if block_form in formset.deleted_forms:
                if block.pk:
                    services.email_block_delete(block=block)
                    formset.deleted_objects.append(block)
            elif block_form.has_changed():
                data = {name: block_form.cleaned_data[name] for name in (*BLOCK_FIELDS, *AUDIENCES)}
                if block.pk:
                    services.email_block_update(block=block, **data)
                    formset.changed_objects.append((block, block_form.changed_data))
                else:
                    formset.new_objects.append(services.email_block_create(template=form.instance, **data))
        return None


class EmailCampaignEventInline(admin.TabularInline):
    model = EmailCampaignEvent
    extra = 0
    can_delete = False
    readonly_fields = ["from_status", "to_status", "by", "note", "created_at"]

    def has_add_permission(self, request, obj=None):
        return False


def _run(modeladmin, request, queryset, service, verb):
    done = 0
    for email_campaign in queryset:
        try:
            service(email_campaign=email_campaign, by=request.user)
            done += 1
        except DomainError as exc:
            modeladmin.message_user(request, f"{email_campaign}: {exc.message}", messages.ERROR)
    if done:
        modeladmin.message_user(request, f"{verb} {done} campaign email(s).", messages.SUCCESS)


@admin.action(description="Send the selected campaign emails", permissions=["change"])
def send_selected(modeladmin, request, queryset):
    _run(modeladmin, request, queryset, services.email_campaign_send, "Started")


@admin.action(description="Pause sending", permissions=["change"])
def pause_selected(modeladmin, request, queryset):
    _run(modeladmin, request, queryset, services.email_campaign_pause, "Paused")


@admin.action(description="Resume sending", permissions=["change"])
def resume_selected(modeladmin, request, queryset):
    _run(modeladmin, request, queryset, services.email_campaign_resume, "Resumed")


@admin.action(description="Cancel sending (cannot be undone)", permissions=["change"])
def cancel_selected(modeladmin, request, queryset):
    _run(modeladmin, request, queryset, services.email_campaign_cancel, "Canceled")


@admin.register(EmailCampaign)
class EmailCampaignAdmin(admin.ModelAdmin):
    list_display = ["campaign", "template", "status", "audience_size", "started_at", "finished_at"]
    list_filter = ["status"]
    search_fields = ["campaign__name", "template__name"]
    list_select_related = ["campaign", "template"]
    raw_id_fields = ["campaign"]
    readonly_fields = ["status", "audience_size", "requested_by", "started_at", "finished_at", "progress"]
    actions = [send_selected, pause_selected, resume_selected, cancel_selected]
    inlines = [EmailCampaignEventInline]

    @admin.display(description="Progress")
    def progress(self, obj):
        if not obj.pk:
            return "-"
        p = selectors.email_campaign_progress(obj)
        eta = f", about {p.eta_seconds} s left" if p.eta_seconds else ""
        return format_html(
            "{}% · sent {} · failed {} · outcome unknown {} · remaining {} · {} per second{}",
            p.percent, p.sent, p.failed, p.outcome_unknown, p.remaining, p.rate_per_second, eta)

    def save_model(self, request, obj, form, change):
        fields = {name: form.cleaned_data[name] for name in ("from_email", "from_name", "reply_to")}
        _adopt(obj, services.email_campaign_set_up(campaign=form.cleaned_data["campaign"],
                                                   template=form.cleaned_data["template"], by=request.user, **fields))


@admin.register(EmailDelivery)
class EmailDeliveryAdmin(admin.ModelAdmin):
    list_display = ["id", "campaign", "contact", "status", "attempts", "sent_at", "open_count", "click_count"]
    list_filter = ["status", "held"]
    search_fields = ["contact__email", "message_id"]
    list_select_related = ["campaign", "contact"]
    raw_id_fields = ["campaign", "contact", "variant"]
    readonly_fields = [field.name for field in EmailDelivery._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class ABVariantInline(admin.TabularInline):
    model = ABVariant
    extra = 0


@admin.register(ABTest)
class ABTestAdmin(admin.ModelAdmin):
    list_display = ["email_campaign", "metric", "test_share", "status", "winner", "decided_at"]
    list_filter = ["status", "metric"]
    list_select_related = ["email_campaign__campaign", "winner"]
    readonly_fields = ["status", "winner", "decided_at", "decided_by", "decision_note", "results"]
    inlines = [ABVariantInline]

    @admin.display(description="Results")
    def results(self, obj):
        if not obj.pk:
            return "-"
        level = f"{obj.confidence_level:.0%}"
        rows = [f"{r.label}: {r.rate:.1%} of {r.recipients} ({level} CI {r.interval[0]:.1%}–{r.interval[1]:.1%})"
                + (f", p={r.p_value:.4f}" if r.p_value is not None else ", best")
                for r in ab_tests.ab_test_results(obj)]
        return " · ".join(rows) or "No results yet"


@admin.register(InboundEvent)
class InboundEventAdmin(admin.ModelAdmin):
    list_display = ["received_at", "source", "kind", "event_id", "contact", "delivery"]
    list_filter = ["kind", "source"]
    search_fields = ["event_id", "contact__email"]
    list_select_related = ["contact", "delivery"]
    readonly_fields = [field.name for field in InboundEvent._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
