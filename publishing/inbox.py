"""The approver's inbox: content and assets waiting for the signed-in approver, decided in place.
Its own module so the content and campaign pages (publishing/views.py) stay within size."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from aicmo_site.errors import DomainError
from media.models import Asset
from media.services import approval as asset_approval
from publishing import selectors, services
from publishing.checks import FAIL, content_checks, readability_targets, segment_reading_grades, worst_outcome
from publishing.markdown import render_markdown
from publishing.models import BlockingCheck, Content

# The inbox speaks of "requesting changes" for both; for an asset that is a rejection with a note,
# which sends it back to its uploader to submit again.
CONTENT_DECISIONS = {"approve": services.content_approve, "request_changes": services.content_request_changes}
ASSET_DECISIONS = {"approve": asset_approval.asset_approve, "request_changes": asset_approval.asset_reject}
ASSET_ACTION_OF = {"approve": "approve", "request_changes": "reject"}
DONE = {"approve": "approved", "request_changes": "sent back with your requested changes"}


def _may_approve(user) -> bool:
    return user.has_perm(selectors.APPROVE_CONTENT) or user.has_perm(selectors.APPROVE_ASSET)


@login_required
def inbox(request):
    if not _may_approve(request.user):
        raise PermissionDenied
    waiting = selectors.approval_inbox(request.user)
    # Read once for the whole inbox, so its query count does not grow with it.
    targets, segment_grades = readability_targets(), segment_reading_grades()
    blocking = set(BlockingCheck.objects.values_list("key", flat=True))
    content = []
    for item in waiting["content"]:
        checks = content_checks(item, targets=targets, segment_grades=segment_grades)
        item.blockers = [check for check in checks if check.outcome == FAIL and check.key in blocking]
        content.append((item, render_markdown(item.body), checks, worst_outcome(checks)))
    assets = list(waiting["assets"])
    return render(request, "publishing/inbox.html", {"content": content, "assets": assets, "blocking": blocking,
                                                      "total": len(content) + len(assets)})


def _decision(request) -> str:
    decision = request.POST.get("decision", "")
    if decision not in CONTENT_DECISIONS:
        raise PermissionDenied
    return decision


@login_required
@require_POST
def inbox_content_decide(request, pk):
    content = get_object_or_404(Content, pk=pk)
    decision = _decision(request)
    if decision not in services.available_actions(content, request.user):
        messages.error(request, f"“{content.title}” is no longer waiting for your approval.")
        return redirect("publishing:inbox")
    try:
        CONTENT_DECISIONS[decision](content=content, by=request.user, note=request.POST.get("note", ""))
    except DomainError as error:
        messages.error(request, f"“{content.title}”: {error.message}")
    else:
        messages.success(request, f"“{content.title}” {DONE[decision]}.")
    return redirect("publishing:inbox")


@login_required
@require_POST
def inbox_asset_decide(request, pk):
    asset = get_object_or_404(Asset, pk=pk)
    decision = _decision(request)
    if ASSET_ACTION_OF[decision] not in asset_approval.available_actions(asset, request.user):
        messages.error(request, f"“{asset.name}” is no longer waiting for your approval.")
        return redirect("publishing:inbox")
    note = request.POST.get("note", "")
    if decision == "request_changes" and not note.strip():
        messages.error(request, f"“{asset.name}”: say what should change.")
        return redirect("publishing:inbox")
    try:
        ASSET_DECISIONS[decision](asset=asset, by=request.user, note=note)
    except DomainError as error:
        messages.error(request, f"“{asset.name}”: {error.message}")
    else:
        messages.success(request, f"“{asset.name}” {DONE[decision]}.")
    return redirect("publishing:inbox")
