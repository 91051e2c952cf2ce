"""The data-retention page: how long each kind of data is kept, and the last runs. Admins only."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.shortcuts import redirect, render

from aicmo_site.errors import DomainError
from aicmo_site.models import BackgroundRun, InactiveContactAction, RetentionKind, RunKind
from aicmo_site.retention import (
    DESCRIPTIONS,
    INACTIVE_TAG,
    RETENTION_UNITS,
    retention_policies,
    retention_policy_update,
)
from aicmo_site.roles import holds_admin_role

RECENT_RUNS = 5


def _changes(post) -> list[dict]:
    changes = []
    for kind in RetentionKind.values:
        keep_for = (post.get(f"{kind}-keep_for") or "").strip()
        if not keep_for.isdigit() or int(keep_for) < 1:
            raise DomainError(f"{RetentionKind(kind).label}: keep for a whole number of at least 1.",
                              code="invalid_keep_for")
        change = {"kind": kind, "enabled": post.get(f"{kind}-enabled") == "on", "keep_for": int(keep_for)}
        if kind == RetentionKind.INACTIVE_CONTACTS:
            change["action"] = post.get(f"{kind}-action", InactiveContactAction.FLAG)
        changes.append(change)
    return changes


@login_required
def retention(request):
    if not holds_admin_role(request.user):
        raise PermissionDenied
    if request.method == "POST":
        try:
            with transaction.atomic():
                for change in _changes(request.POST):
                    retention_policy_update(**change)
        except (DomainError, ValidationError) as error:
            messages.error(request, getattr(error, "message", None) or "; ".join(error.messages))
        else:
            messages.success(request, "Retention policies saved. They apply from tonight's run.")
            return redirect("retention")
    rows = [{"policy": policy, "unit": RETENTION_UNITS[policy.kind][0], "description": DESCRIPTIONS[policy.kind],
             "is_inactive": policy.kind == RetentionKind.INACTIVE_CONTACTS} for policy in retention_policies()]
    runs = BackgroundRun.objects.filter(kind=RunKind.RETENTION).order_by("-created_at", "-id")[:RECENT_RUNS]
    return render(request, "aicmo_site/retention.html", {
        "rows": rows, "runs": runs, "actions": InactiveContactAction.choices, "inactive_tag": INACTIVE_TAG})
