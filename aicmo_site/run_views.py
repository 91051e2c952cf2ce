"""The "Background work" pages: every run a person started or waits for, with its progress, and the page
of one run linking to what it produced. Open runs refresh themselves (htmx polling a fragment)."""

from django.contrib.auth.decorators import login_required, permission_required
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, render

from aicmo_site.api.runs import BackgroundRunFilterSet
from aicmo_site.models import RunKind, RunStatus
from aicmo_site.run_selectors import runs_list

PAGE_SIZE = 50


@login_required
@permission_required("aicmo_site.view_backgroundrun", raise_exception=True)
def run_list(request):
    filters = BackgroundRunFilterSet(request.GET, queryset=runs_list(), request=request)
    runs = filters.qs if filters.is_valid() else runs_list().none()
    page = Paginator(runs, PAGE_SIZE).get_page(request.GET.get("page"))
    query = "&".join(f"{key}={value}" for key, value in request.GET.items() if key != "page" and value)
    context = {"page": page, "filters": filters, "query": query, "kinds": RunKind.choices,
               "statuses": RunStatus.choices, "polling": any(run.is_open for run in page)}
    template = "aicmo_site/runs/_rows.html" if request.headers.get("HX-Request") else "aicmo_site/runs/list.html"
    return render(request, template, context)


@login_required
@permission_required("aicmo_site.view_backgroundrun", raise_exception=True)
def run_detail(request, pk: int):
    run = get_object_or_404(runs_list(), pk=pk)
    template = "aicmo_site/runs/_card.html" if request.headers.get("HX-Request") else "aicmo_site/runs/detail.html"
    return render(request, template, {"run": run})
