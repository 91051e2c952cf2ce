from django.contrib.auth.decorators import login_required
from django.http import HttpResponseServerError, JsonResponse
from django.shortcuts import render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from aicmo_site.health import system_health
from aicmo_site.roles import user_roles

FALLBACK_500 = ('<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Error · AICMO</title></head>'
                '<body><main><h1>Something went wrong</h1><p>The error was logged. Please try again in a moment. '
                '<a href="/">Back to the overview</a></p></main></body></html>')


@require_GET
@never_cache
def healthz(request):
    report = system_health()
    return JsonResponse(report, status=200 if report["ok"] else 503)


@login_required
def home(request):
    return render(request, "aicmo_site/home.html", {"roles": user_roles(request.user), "health": system_health()})


def _back_url(request) -> str:
    referer = request.META.get("HTTP_REFERER", "")
    safe = url_has_allowed_host_and_scheme(referer, allowed_hosts={request.get_host()},
                                           require_https=request.is_secure())
    return referer if safe and referer != request.build_absolute_uri() else ""


def error_403(request, exception=None):
    roles = user_roles(request.user) if request.user.is_authenticated else []
    return render(request, "403.html", {"back_url": _back_url(request), "roles": roles}, status=403)


def error_404(request, exception=None):
    return render(request, "404.html", {"back_url": _back_url(request)}, status=404)


def error_500(request):
    # The error may be the database itself, which the layout's navigation reads: then a bare page.
    try:
        return render(request, "500.html", {"back_url": _back_url(request)}, status=500)
    except Exception:
        return HttpResponseServerError(FALLBACK_500, content_type="text/html")
