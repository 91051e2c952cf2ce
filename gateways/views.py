from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from gateways import selectors, services
from gateways.capabilities import Capability
from gateways.models import ProviderAccount

PAGE_SIZE = 25
SORT_CHOICES = (("priority", "Capability and priority"), ("name", "Name A-Z"), ("-name", "Name Z-A"),
                ("updated", "Recently changed"))


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
        "can_probe": request.user.has_perm("gateways.change_provideraccount"),
    })


@login_required
@require_POST
@permission_required("gateways.change_provideraccount", raise_exception=True)
def provider_probe(request, pk: int):
    outcome = services.account_probe(account=get_object_or_404(ProviderAccount, pk=pk))
    if outcome.ok:
        messages.success(request, f"{outcome.provider} answers: {outcome.detail}")
    elif not outcome.probed:
        messages.warning(request, f"{outcome.provider} is not probed — {outcome.detail}")
    else:
        advice = f" — {outcome.advice}" if outcome.advice else ""
        messages.error(request, f"{outcome.provider} failed: {outcome.detail}{advice}")
    return redirect("gateways:provider-health")
