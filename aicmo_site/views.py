from django.contrib.auth.decorators import login_required
from django.http import JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from aicmo_site.api.errors import error_body
from aicmo_site.health import system_health
from aicmo_site.roles import user_roles
from aicmo_site.stuck import stuck_work_everywhere


@require_GET
@never_cache
def healthz(request):
    report = system_health()
    return JsonResponse(report, status=200 if report["ok"] else 503)


@login_required
def home(request):
    return render(request, "aicmo_site/home.html", {"roles": user_roles(request.user), "health": system_health(),
                                                    "stuck_work": stuck_work_everywhere()})


def _api_error(request, status: int, code: str, message: str):
    """Errors Django answers before or after DRF (no route, a refused request body, a crash) keep the
    API's one JSON error shape under /api/."""
    if request.path.startswith("/api/"):
        return JsonResponse(error_body(code, message), status=status)
    return None


def error_400(request, exception=None):
    return (_api_error(request, 400, "bad_request", "The request could not be read (too many fields or files?).")
            or render(request, "400.html", status=400))


def error_404(request, exception=None):
    return _api_error(request, 404, "not_found", "Not found.") or render(request, "404.html", status=404)


def error_500(request):
    return (_api_error(request, 500, "server_error", "Something went wrong on our side; it has been logged.")
            or render(request, "500.html", status=500))
