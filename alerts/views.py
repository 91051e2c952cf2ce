"""The alerts page: open and recent alerts for everyone who may see them; channels and thresholds for Admins."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from aicmo_site.errors import DomainError
from alerts import selectors, services
from alerts.models import AlertChannel, AlertStatus, ChannelKind

PAGE_SIZE = 25


class AlertChannelForm(forms.Form):
    name = forms.CharField(max_length=120)
    kind = forms.ChoiceField(choices=ChannelKind.choices, label="Kind")
    target = forms.CharField(label="Addresses or webhook URL", max_length=2000,
                             help_text="Email: addresses separated by commas. Slack or Discord: the webhook URL.")
    repeat_minutes = forms.IntegerField(min_value=0, initial=240, label="Remind every (minutes)",
                                        help_text="0 never reminds about an alert still open.")


@login_required
@permission_required("alerts.view_alert", raise_exception=True)
def alert_list(request):
    status = request.GET.get("status", "")
    page = Paginator(selectors.alert_list(status=status), PAGE_SIZE).get_page(request.GET.get("page"))
    can_manage = request.user.has_perm("alerts.change_alertchannel")
    return render(request, "alerts/alert_list.html", {
        "page": page, "status": status, "statuses": AlertStatus.choices, "can_manage": can_manage,
        "channels": selectors.channel_list() if can_manage else [], "rules": selectors.rule_rows(),
        "form": AlertChannelForm(),
    })


@login_required
@require_POST
@permission_required("alerts.add_alertchannel", raise_exception=True)
def channel_create(request):
    form = AlertChannelForm(request.POST)
    if form.is_valid():
        channel = services.alert_channel_create(**form.cleaned_data)
        messages.success(request, f"{channel.name} will hear about alerts.")
    else:
        messages.error(request, "The channel was not added: " + "; ".join(
            f"{name}: {' '.join(errors)}" for name, errors in form.errors.items()))
    return redirect("alerts:alert-list")


@login_required
@require_POST
@permission_required("alerts.delete_alertchannel", raise_exception=True)
def channel_delete(request, pk: int):
    channel = get_object_or_404(AlertChannel, pk=pk)
    services.alert_channel_delete(channel=channel)
    messages.success(request, f"{channel.name} no longer hears about alerts.")
    return redirect("alerts:alert-list")


@login_required
@require_POST
@permission_required("alerts.change_alertrule", raise_exception=True)
def rule_update(request, key: str):
    try:
        services.alert_rule_update(key=key, enabled=request.POST.get("enabled") == "on",
                                   threshold=float(request.POST.get("threshold", "")))
    except (ValueError, DomainError) as exc:
        messages.error(request, getattr(exc, "message", "The threshold must be a number."))
    else:
        messages.success(request, "Rule saved; the next check (within a minute) uses it.")
    return redirect("alerts:alert-list")
