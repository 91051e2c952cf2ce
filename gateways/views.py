"""Provider pages of the back office: everyone with the view permission reads the health page;
Admins add, edit, disable and test accounts there, with a form per adapter."""

from functools import partial

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required, user_passes_test
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from aicmo_site.errors import DomainError
from gateways import selectors, services
from gateways.capabilities import Capability, adapter_class
from gateways.forms import ProviderAccountForm
from gateways.models import ProviderAccount
from gateways.permissions import manages_providers
from gateways.readiness import account_readiness

PAGE_SIZE = 25
SORT_CHOICES = (("priority", "Capability and priority"), ("name", "Name A-Z"), ("-name", "Name Z-A"),
                ("updated", "Recently changed"))


def _is_admin(user) -> bool:
    if not manages_providers(user):
        raise PermissionDenied
    return True


admin_only = user_passes_test(_is_admin)


@login_required
@permission_required("gateways.view_provideraccount", raise_exception=True)
def provider_health(request):
    capability = request.GET.get("capability", "")
    search = request.GET.get("q", "").strip()
    enabled = {"yes": True, "no": False}.get(request.GET.get("enabled", ""))
    sort = request.GET.get("sort", "priority")
    accounts = selectors.account_list(capability=capability, search=search, enabled=enabled, sort=sort)
    page = Paginator(accounts, PAGE_SIZE).get_page(request.GET.get("page"))
    summary = selectors.health_report()
    return render(request, "gateways/provider_health.html", {
        "page": page,
        "rows": [selectors.provider_report(account) for account in page.object_list],
        "summary": summary,
        "capabilities": Capability.CHOICES,
        "sort_choices": SORT_CHOICES,
        "filters": {"capability": capability, "q": search, "enabled": request.GET.get("enabled", ""), "sort": sort},
        "can_manage": manages_providers(request.user),
    })


@login_required
@admin_only
def provider_new(request):
    """Step one of adding an account: which provider, grouped by what it does."""
    capability = request.GET.get("capability", "")
    groups = selectors.adapter_choices(capability=capability)
    if capability and not groups:
        raise Http404("No such capability.")
    return render(request, "gateways/provider_new.html", {"groups": groups, "capability": capability})


def _saved(request, form: ProviderAccountForm, save) -> ProviderAccount | None:
    """Saves a valid form through the service; what the service refuses is shown on the form."""
    if request.method != "POST" or not form.is_valid():
        return None
    try:
        account = save(**form.service_fields())
    except ValidationError as error:
        form.add_service_error(error)
        return None
    except DomainError as error:
        form.add_error(None, error.message)
        return None
    messages.success(request, f"{account.name} saved.")
    return account


@login_required
@admin_only
def provider_create(request, adapter: str):
    try:
        cls = adapter_class(adapter)
    except LookupError:
        raise Http404("No such provider.")
    form = ProviderAccountForm(request.POST or None, adapter=cls)
    account = _saved(request, form, partial(services.account_create, capability=cls.capability, adapter=cls.key))
    if account:
        return redirect("gateways:provider-edit", pk=account.pk)
    return render(request, "gateways/provider_form.html", {"form": form, "adapter": cls, "account": None})


@login_required
@admin_only
def provider_edit(request, pk: int):
    account = get_object_or_404(ProviderAccount.objects.select_related("health"), pk=pk)
    try:
        cls = account.adapter_class
    except LookupError:
        messages.error(request, f"{account.name} uses the adapter {account.adapter!r}, which is not installed.")
        return redirect("gateways:provider-health")
    form = ProviderAccountForm(request.POST or None, adapter=cls, instance=account)
    if _saved(request, form, partial(services.account_update, account=account)):
        return redirect("gateways:provider-edit", pk=account.pk)
    if form.is_bound:
        account.refresh_from_db()  # the form wrote its refused values on the instance; show what is stored
    report = selectors.provider_report(account)
    return render(request, "gateways/provider_form.html", {
        "form": form, "adapter": cls, "account": account, "report": report,
        "next_step": selectors.next_step(account, report, account_readiness(account, manual_ok=True)),
        "usage": selectors.text_usage_today(account),
    })


def _back(request, fallback: str) -> str:
    target = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return fallback


@login_required
@admin_only
@require_POST
def provider_enable(request, pk: int):
    """Enable or disable: a disabled account is skipped by every chain and kept with its secrets."""
    account = get_object_or_404(ProviderAccount, pk=pk)
    enabled = request.POST.get("enabled") == "yes"
    try:
        services.account_update(account=account, enabled=enabled)
    except ValidationError as error:
        # A stored value the adapter no longer accepts: the account's form names it.
        messages.error(request, f"{account.name} was not changed: {' '.join(error.messages)}")
    else:
        messages.success(request, f"{account.name} {'enabled' if enabled else 'disabled'}.")
    return redirect(_back(request, reverse("gateways:provider-edit", args=[account.pk])))


@login_required
@admin_only
@require_POST
def provider_probe(request, pk: int):
    """Test: the provider's cheapest authenticated call, said as it went, "not probed" included."""
    account = get_object_or_404(ProviderAccount, pk=pk)
    outcome = services.account_probe(account=account)
    if outcome.ok:
        messages.success(request, f"{outcome.provider} answers: {outcome.detail}")
    elif not outcome.probed:
        advice = f" Next: {outcome.advice}." if outcome.advice else ""
        messages.warning(request, f"{outcome.provider} is not probed — {outcome.detail}.{advice}")
    else:
        advice = f" — {outcome.advice}" if outcome.advice else ""
        messages.error(request, f"{outcome.provider} failed: {outcome.detail}{advice}")
    return redirect(_back(request, reverse("gateways:provider-health")))
