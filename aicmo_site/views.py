from django.contrib.auth.decorators import login_required
from django.http import HttpResponseServerError, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from aicmo_site.api.errors import error_body
from aicmo_site.context_processors import navigation
from aicmo_site.health import system_health
from aicmo_site.roles import user_roles
from aicmo_site.stuck import stuck_work_everywhere
from analytics import reports
from crm import selectors as crm_selectors
from gateways import readiness
from gateways import selectors as gateways_selectors
from gateways.capabilities import Capability
from gateways.permissions import manages_providers
from publishing import selectors as publishing_selectors
from publishing.email import selectors as email_selectors

FALLBACK_500 = ('<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Error · AICMO</title></head>'
                '<body><main><h1>Something went wrong</h1><p>The error was logged. Please try again in a moment. '
                '<a href="/">Back to the overview</a></p></main></body></html>')


@require_GET
@never_cache
def healthz(request):
    report = system_health()
    return JsonResponse(report, status=200 if report["ok"] else 503)


# A placeholder account sends nothing, so the first step says what counts as a sender.
SENDER_NOTE = "a real, enabled email sending account; a placeholder sends nothing"


@login_required
def home(request):
    """What needs me? Work waiting, work under way, what went wrong, this week's figures; and on a new
    installation the steps to a first send. Each app answers through its selectors; every line
    links to the page where it is dealt with."""
    user = request.user
    may = user.has_perm
    providers = gateways_selectors.home_providers()
    crm_steps = crm_selectors.crm_getting_started()
    publishing_steps = publishing_selectors.publishing_getting_started()
    steps = [
        ("Add a sender", providers["has_sender"], reverse("gateways:provider-health"), SENDER_NOTE),
        ("Import contacts", crm_steps["contacts"], reverse("crm:import-list"), ""),
        ("Make a segment", crm_steps["segments"], reverse("crm:segment-new"), ""),
        ("Write content", publishing_steps["content"], reverse("publishing:content-create"), ""),
        ("Send an email", email_selectors.email_sends_started(), reverse("email-send-list"), ""),
    ]
    # The steps are a Marketer's or an Admin's to take; readers would only be sent to pages they cannot use.
    if not may("crm.add_importrun") or all(done for _, done, _, _ in steps):
        steps = []
    elif manages_providers(user):
        # Only an Admin adds the account; a Marketer is shown where providers stand.
        steps[0] = ("Add a sender", providers["has_sender"], readiness.fix_url(Capability.EMAIL_SENDING), SENDER_NOTE)
    jobs, jobs_total = ([], 0)
    if may("publishing.view_publishingjob"):
        jobs, jobs_total = publishing_selectors.jobs_needing_attention()
    sends_visible = may("publishing.view_emailcampaign")
    return render(request, "aicmo_site/home.html", {
        "roles": user_roles(user),
        "approvals_waiting": navigation(request).get("nav_waiting", 0),
        "may_approve": may(publishing_selectors.APPROVE_CONTENT) or may(publishing_selectors.APPROVE_ASSET),
        "sends_running": email_selectors.email_sends_running() if sends_visible else [],
        "campaigns_running": publishing_selectors.campaigns_running() if may("publishing.view_campaign") else [],
        "jobs": jobs, "jobs_total": jobs_total,
        "delivery_problems": email_selectors.sends_with_delivery_problems() if sends_visible else [],
        "provider_problems": providers["problems"] if may("gateways.view_provideraccount") else [],
        "imports_with_errors": crm_selectors.imports_with_errors() if may("crm.view_importrun") else [],
        "week": reports.week_figures(today=timezone.localdate()),
        "steps": steps,
        "health": system_health(),
        "stuck_work": stuck_work_everywhere(),
    })


def _api_error(request, status: int, code: str, message: str):
    """Errors Django answers before or after DRF (no route, a refused request body, a crash) keep the
    API's one JSON error shape under /api/."""
    if request.path.startswith("/api/"):
        return JsonResponse(error_body(code, message), status=status)
    return None


def error_400(request, exception=None):
    return (_api_error(request, 400, "bad_request", "The request could not be read (too many fields or files?).")
            or render(request, "400.html", status=400))


def _back_url(request) -> str:
    referer = request.META.get("HTTP_REFERER", "")
    safe = url_has_allowed_host_and_scheme(referer, allowed_hosts={request.get_host()},
                                           require_https=request.is_secure())
    return referer if safe and referer != request.build_absolute_uri() else ""


def error_403(request, exception=None):
    roles = user_roles(request.user) if request.user.is_authenticated else []
    return _api_error(request, 403, "permission_denied", "You do not have permission to do this.") or render(
        request, "403.html", {"back_url": _back_url(request), "roles": roles}, status=403)


def error_404(request, exception=None):
    return (_api_error(request, 404, "not_found", "Not found.")
            or render(request, "404.html", {"back_url": _back_url(request)}, status=404))


def error_500(request):
    api = _api_error(request, 500, "server_error", "Something went wrong on our side; it has been logged.")
    if api is not None:
        return api
    # The error may be the database itself, which the layout's navigation reads: then a bare page.
    try:
        return render(request, "500.html", {"back_url": _back_url(request)}, status=500)
    except Exception:
        return HttpResponseServerError(FALLBACK_500, content_type="text/html")
