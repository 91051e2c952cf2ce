"""Provider accounts in the admin: credentials are password inputs that are never filled back in;
a blank one keeps the stored secret. Saving goes through the services."""

from django import forms
from django.contrib import admin, messages
from django.utils.html import format_html

from aicmo_site.roles import holds_admin_role
from gateways import services
from gateways.capabilities import Capability, adapter_class, adapters_for
from gateways.models import ProviderAccount, TextGenerationUsage
from gateways.services.accounts import EDITABLE_FIELDS

SECRET_PREFIX = "secret__"


def _secret_names() -> dict[str, list[str]]:
    """Every credential name any adapter declares, with the adapters that use it."""
    names: dict[str, list[str]] = {}
    for capability, _ in Capability.CHOICES:
        for cls in adapters_for(capability):
            for name in cls.secret_parameters:
                names.setdefault(name, []).append(cls.label)
    return dict(sorted(names.items()))


def _adapter_choices() -> list[tuple[str, str]]:
    return sorted(((cls.key, f"{cls.label} ({cls.key})") for capability, _ in Capability.CHOICES
                   for cls in adapters_for(capability)), key=lambda choice: choice[1])


class ProviderAccountForm(forms.ModelForm):
    base_url = forms.URLField(required=False, assume_scheme="https",
                              help_text=ProviderAccount._meta.get_field("base_url").help_text)

    class Meta:
        model = ProviderAccount
        fields = EDITABLE_FIELDS

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["adapter"] = forms.ChoiceField(choices=_adapter_choices(),
                                                   help_text=ProviderAccount._meta.get_field("adapter").help_text)
        stored = set(self.instance.credential_names or []) if self.instance.pk else set()
        for name, labels in _secret_names().items():
            state = "set; leave blank to keep it" if name in stored else "not set"
            self.fields[SECRET_PREFIX + name] = forms.CharField(
                label=name.replace("_", " ").capitalize(), required=False, strip=True,
                widget=forms.PasswordInput(render_value=False),
                help_text=f"Used by {', '.join(labels)}. Currently {state}.",
            )

    def credentials(self) -> dict[str, str]:
        return {field[len(SECRET_PREFIX):]: value for field, value in self.cleaned_data.items()
                if field.startswith(SECRET_PREFIX) and value}

    def clean(self):
        cleaned = super().clean()
        try:
            allowed = set(adapter_class(cleaned.get("adapter", "")).secret_parameters)
        except LookupError:
            return cleaned
        for name in set(self.credentials()) - allowed:
            self.add_error(SECRET_PREFIX + name, f"The chosen adapter does not use {name}; leave it blank.")
        return cleaned


class HealthReadout:
    @admin.display(description="Status")
    def health_status(self, account):
        health = getattr(account, "health", None)
        return health.status if health else "unknown"

    @admin.display(description="Health")
    def health_readout(self, account):
        health = getattr(account, "health", None)
        if health is None:
            return "No calls yet."
        rate = "—" if health.success_rate is None else f"{health.success_rate:.0%}"
        latency = "—" if health.latency_ms is None else f"{health.latency_ms:.0f} ms"
        return format_html(
            "<b>{}</b> · success {} · latency {} · {} consecutive failures · breaker {}{}<br>"
            "Last error: {}<br>Advice: {}",
            health.status, rate, latency, health.consecutive_failures, health.get_breaker_state_display(),
            f" — opened by {health.get_open_reason_display().lower()}" if health.open_reason else "",
            health.last_error or "none", health.last_advice or "none",
        )


class AdminRoleOnly:
    """Provider accounts hold host names, base URLs and keys: only Admins see them, here as in the API
    (gateways.api.views.IsAdminRole), whatever view permission a role's group holds."""

    def has_module_permission(self, request):
        return holds_admin_role(request.user) and super().has_module_permission(request)

    def has_view_permission(self, request, obj=None):
        return holds_admin_role(request.user) and super().has_view_permission(request, obj)

    def has_add_permission(self, request):
        return holds_admin_role(request.user) and super().has_add_permission(request)

    def has_change_permission(self, request, obj=None):
        return holds_admin_role(request.user) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return holds_admin_role(request.user) and super().has_delete_permission(request, obj)


@admin.register(ProviderAccount)
class ProviderAccountAdmin(AdminRoleOnly, HealthReadout, admin.ModelAdmin):
    form = ProviderAccountForm
    list_display = ("name", "capability", "adapter", "priority", "enabled", "health_status", "credential_list")
    list_filter = ("capability", "enabled", "adapter")
    search_fields = ("name", "adapter")
    ordering = ("capability", "priority", "name")
    list_select_related = ("health",)
    readonly_fields = ("channel", "credential_list", "health_readout", "created", "updated")
    actions = ("probe_now",)

    @admin.display(description="Credentials set")
    def credential_list(self, account):
        return ", ".join(account.credential_names) or "none"

    def get_fieldsets(self, request, obj=None):
        secret_fields = [SECRET_PREFIX + name for name in _secret_names()]
        return (
            (None, {"fields": EDITABLE_FIELDS}),
            ("Credentials (write-only)", {"fields": secret_fields, "description": "Secrets are encrypted and never "
                                          "shown again. Fill in only the ones the chosen adapter uses."}),
            ("Health", {"fields": ("channel", "credential_list", "health_readout", "created", "updated")}),
        )

    def get_form(self, request, obj=None, change=False, **kwargs):
        # The credential fields are added per instance by the form, so the factory gets the model fields only.
        return super().get_form(request, obj, change, **{**kwargs, "fields": EDITABLE_FIELDS})

    def save_model(self, request, obj, form, change):
        data = {field: form.cleaned_data[field] for field in EDITABLE_FIELDS if field in form.cleaned_data}
        if change:
            services.account_update(account=obj, credentials=form.credentials(), **data)
            return
        saved = services.account_create(credentials=form.credentials(), **data)
        obj.__dict__.update(saved.__dict__)

    def delete_model(self, request, obj):
        services.account_delete(account=obj)

    @admin.action(description="Probe now (the provider's cheapest authenticated call)")
    def probe_now(self, request, queryset):
        for account in queryset:
            outcome = services.account_probe(account=account)
            if outcome.ok:
                self.message_user(request, f"{outcome.provider}: {outcome.detail}", messages.SUCCESS)
            else:
                advice = f" — {outcome.advice}" if outcome.advice else ""
                self.message_user(request, f"{outcome.provider} failed: {outcome.detail}{advice}", messages.ERROR)


@admin.register(TextGenerationUsage)
class TextGenerationUsageAdmin(AdminRoleOnly, admin.ModelAdmin):
    """Read-only: rows are counted by gateways.services.text as requests go out."""

    list_display = ("day", "account", "requests", "input_tokens", "output_tokens", "cost_estimate")
    list_filter = ("account",)
    date_hierarchy = "day"
    list_select_related = ("account",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
