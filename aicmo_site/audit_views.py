"""The audit page: every change, searchable by who, what, which object, where from and when. Admins only."""

from django.contrib.auth.decorators import login_required
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import render
from django.views.decorators.http import require_safe

from aicmo_site.api.audit import AuditEntryFilterSet
from aicmo_site.audit import AuditSource, audit_entries
from aicmo_site.roles import holds_admin_role

PAGE_SIZE = 50


@login_required
@require_safe  # a page that only reads: no form of it can change an entry
def audit_list(request):
    if not holds_admin_role(request.user):
        raise PermissionDenied
    filters = AuditEntryFilterSet(request.GET, queryset=audit_entries(), request=request)
    entries = filters.qs if filters.is_valid() else audit_entries().none()
    page = Paginator(entries, PAGE_SIZE).get_page(request.GET.get("page"))
    query = "&".join(f"{key}={value}" for key, value in request.GET.items() if key != "page" and value)
    models = (ContentType.objects.filter(pk__in=audit_entries().order_by().values("content_type").distinct())
              .order_by("app_label", "model"))
    return render(request, "aicmo_site/audit/list.html", {
        "page": page, "filters": filters, "query": query, "sources": AuditSource.choices,
        "models": [(f"{ct.app_label}.{ct.model}", f"{ct.model_class()._meta.verbose_name.capitalize()} ({ct.app_label})"
                    if ct.model_class() else f"{ct.app_label}.{ct.model}") for ct in models]})
