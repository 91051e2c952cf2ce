"""Back-office pages of the asset library (mounted at /media/library/)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.paginator import Paginator
from django.db import transaction
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from aicmo_site.errors import DomainError
from media import services
from media.forms import AssetMetadataForm, BulkForm, FocalPointForm, GridFilterForm, NoteForm, UploadForm
from media.models import Asset, Library
from media.selectors import (
    asset_list,
    asset_performance_summary,
    asset_queryset,
    asset_rendition_progress,
    asset_usage,
)
from media.serving import asset_original_response
from media.suggestions import asset_suggestions

PAGE_SIZE = 24
_REVIEW_SERVICES = {
    "submit": services.asset_submit, "approve": services.asset_approve, "reject": services.asset_reject,
    "archive": services.asset_archive, "restore": services.asset_restore,
}


@login_required
@permission_required("media.view_asset", raise_exception=True)
def asset_grid(request):
    filters = GridFilterForm(request.GET or None)
    assets, filterset = asset_list(filters=request.GET, sort=request.GET.get("sort", "newest"))
    page = Paginator(assets, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "media/asset_grid.html", {
        "filters": filters, "filter_errors": filterset.errors, "page": page, "query": query.urlencode(),
        "upload_form": UploadForm(initial={"library": Library.objects.order_by("name").first()}),
        "can_upload": request.user.has_perm("media.add_asset"),
        "can_approve": request.user.has_perm("media.approve_asset"),
        "can_change": request.user.has_perm("media.change_asset"),
    })


def _result_json(result) -> dict:
    if result.error:
        return {"filename": result.filename, "accepted": False, "message": result.error.message,
                "code": result.error.code}
    return {"filename": result.filename, "accepted": True, "created": result.created, "notice": result.notice,
            "id": result.asset.pk, "url": reverse("media:asset-detail", args=[result.asset.pk])}


@login_required
@permission_required("media.add_asset", raise_exception=True)
@require_POST
def asset_upload(request):
    """Several files at once; answers JSON to the drag-and-drop script, redirects a plain form."""
    form = UploadForm(request.POST, request.FILES)
    wants_json = request.headers.get("Accept", "").startswith("application/json")
    files = request.FILES.getlist("files")
    if not form.is_valid() or not files:
        message = "Choose a library and at least one file."
        if wants_json:
            return JsonResponse({"message": message, "fields": form.errors.get_json_data()}, status=400)
        messages.error(request, message)
        return redirect("media:asset-grid")
    results = services.asset_upload_batch(library=form.cleaned_data["library"], files=files, uploaded_by=request.user)
    if wants_json:
        return JsonResponse({"results": [_result_json(result) for result in results]})
    for result in results:
        if result.error:
            messages.error(request, f"{result.filename}: {result.error.message}")
        else:
            messages.success(request, f"{result.filename}: {result.notice}")
    return redirect("media:asset-grid")


@login_required
@permission_required("media.view_asset", raise_exception=True)
def asset_original(request, pk: int):
    """The upload as it came, metadata and all, for people who may see the library (what is published
    is the cleaned publish rendition: media.services.asset_public_url)."""
    return asset_original_response(get_object_or_404(Asset, pk=pk))


@login_required
@permission_required("media.view_asset", raise_exception=True)
def asset_detail(request, pk: int):
    asset = get_object_or_404(asset_queryset().prefetch_related("reviews__by"), pk=pk)
    form = AssetMetadataForm(instance=asset, initial={"tags": ", ".join(t.name for t in asset.tags.all())})
    if request.method == "POST":
        if not request.user.has_perm("media.change_asset"):
            messages.error(request, "You may not change assets.")
            return redirect("media:asset-detail", pk=pk)
        form = AssetMetadataForm(request.POST, instance=asset)
        if form.is_valid():
            data = dict(form.cleaned_data)
            try:
                services.asset_update(asset=asset, tags=data.pop("tags"), **data)
            except DomainError as error:
                form.add_error(None, error.message)
            else:
                messages.success(request, "Saved.")
                return redirect("media:asset-detail", pk=pk)
    return render(request, "media/asset_detail.html", {
        "asset": asset, "form": form, "usage": asset_usage(asset=asset),
        "progress": asset_rendition_progress(asset=asset),
        "performance": asset_performance_summary(asset=asset), "suggestions": asset_suggestions(asset=asset),
        "actions": services.available_actions(asset, request.user), "reviews": asset.reviews.all(),
        "can_change": request.user.has_perm("media.change_asset"),
        "can_delete": request.user.has_perm("media.delete_asset") and not asset.in_use,
    })


@login_required
@permission_required("media.view_asset", raise_exception=True)
def asset_renditions(request, pk: int):
    """The renditions card alone, polled by the asset page while some are still being made."""
    asset = get_object_or_404(asset_queryset(), pk=pk)
    return render(request, "media/_renditions.html", {"asset": asset,
                                                      "progress": asset_rendition_progress(asset=asset)})


@login_required
@require_POST
def asset_review(request, pk: int):
    asset = get_object_or_404(asset_queryset(), pk=pk)
    form = NoteForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Unknown action.")
        return redirect("media:asset-detail", pk=pk)
    try:
        _REVIEW_SERVICES[form.cleaned_data["action"]](asset=asset, by=request.user, note=form.cleaned_data["note"])
        messages.success(request, f"Asset is now {asset.get_status_display().lower()}.")
    except DomainError as error:
        messages.error(request, error.message)
    return redirect("media:asset-detail", pk=pk)


@login_required
@permission_required("media.change_asset", raise_exception=True)
@require_POST
def asset_focal_point(request, pk: int):
    asset = get_object_or_404(asset_queryset(), pk=pk)
    form = FocalPointForm(request.POST)
    if form.is_valid():
        try:
            services.asset_set_focal_point(asset=asset, by=request.user, **form.cleaned_data)
            messages.success(request, "Focal point saved; the channel crops are being made again.")
        except DomainError as error:
            messages.error(request, error.message)
    else:
        messages.error(request, "The focal point must lie inside the image.")
    return redirect("media:asset-detail", pk=pk)


@login_required
@permission_required("media.delete_asset", raise_exception=True)
def asset_delete(request, pk: int):
    asset = get_object_or_404(asset_queryset(), pk=pk)
    if request.method == "POST":
        try:
            services.asset_delete(asset=asset)
        except DomainError as error:
            messages.error(request, error.message)
            return redirect("media:asset-detail", pk=pk)
        messages.success(request, f"“{asset.name}” was deleted.")
        return redirect("media:asset-grid")
    return render(request, "media/asset_confirm_delete.html", {"asset": asset})


@login_required
@require_POST
def asset_bulk(request):
    form = BulkForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Select assets and an action (and a tag to add).")
        return redirect(_grid_url(request))
    assets = list(form.cleaned_data["ids"])
    if form.cleaned_data["action"] == "tag":
        if not request.user.has_perm("media.change_asset"):
            messages.error(request, "You may not tag assets.")
        else:
            count = services.asset_tags_add(assets=assets, tags=[form.cleaned_data["tag"]])
            messages.success(request, f"Tag added to {count} asset(s).")
    else:
        approved = 0
        for asset in assets:
            try:
                with transaction.atomic():
                    services.asset_approve(asset=asset, by=request.user)
                approved += 1
            except DomainError as error:
                messages.warning(request, f"{asset.name}: {error.message}")
        messages.success(request, f"{approved} asset(s) approved.")
    return redirect(_grid_url(request))


def _grid_url(request) -> str:
    # Only the query string comes from the form, so the redirect cannot leave the grid.
    query = request.POST.get("query", "").lstrip("?")
    return reverse("media:asset-grid") + (f"?{query}" if query else "")
