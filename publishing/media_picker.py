"""The asset picker of the content and version editors: the assets already picked, then a page of the
other approved assets matching a search by name or tag. htmx swaps the picker's body as the author
searches or pages; the picked checkboxes travel with each request, so a pick survives a new search."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import render

from aicmo_site.api.fields import DB_INTEGER_MAX, LIST_MAX_LENGTH
from media.selectors import assets_approved

PICKER_PAGE_SIZE = 12


def _ids(values) -> list[int]:
    ids = [int(value) for value in values if str(value).isdigit() and 0 < int(value) <= DB_INTEGER_MAX]
    return list(dict.fromkeys(ids))[:LIST_MAX_LENGTH]


def picker_context(*, picked, search: str = "", page=1) -> dict:
    """`picked`: the asset ids ticked (a bound form's values or the saved ones); only approved ones show."""
    ids = _ids(picked or ())
    search = (search or "").strip()[:100]
    attached = list(assets_approved().filter(pk__in=ids)) if ids else []
    others = Paginator(assets_approved(search=search).exclude(pk__in=ids), PICKER_PAGE_SIZE).get_page(page)
    return {"attached": attached, "results": others, "q": search}


@login_required
def media_picker(request):
    if not (request.user.has_perm("publishing.change_content")
            or request.user.has_perm("publishing.change_channelversion")):
        raise PermissionDenied
    picker = picker_context(picked=request.GET.getlist("assets"), search=request.GET.get("media_q", ""),
                            page=request.GET.get("page"))
    return render(request, "publishing/_media_picker_body.html", {"picker": picker})
