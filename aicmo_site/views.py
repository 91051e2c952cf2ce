from django.contrib.auth.decorators import login_required
from django.http import JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

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


def error_404(request, exception=None):
    return render(request, "404.html", status=404)


def error_500(request):
    return render(request, "500.html", status=500)
