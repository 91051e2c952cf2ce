"""Back-office pages of journeys: the list, and a journey's steps as a vertical flow with how many
contacts are on each, with the actions the person may take (the workflow's available_actions)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from aicmo_site.errors import DomainError
from aicmo_site.transitions import Via, available_actions
from automation import selectors, services
from automation.choices import JourneyStatus
from automation.models import Journey

PAGE_SIZE = 25
SERVICES = {"activate": services.journey_activate, "pause": services.journey_pause,
            "archive": services.journey_archive}
DONE = {"activate": "is active: contacts enter it from now on.", "pause": "is paused: contacts stay on their steps.",
        "archive": "is archived: everyone on the way has left it."}


@login_required
@permission_required("automation.view_journey", raise_exception=True)
def journey_list(request):
    status, query = request.GET.get("status", ""), request.GET.get("q", "").strip()
    journeys = selectors.journey_list().order_by("name", "id")
    if status in JourneyStatus.values:
        journeys = journeys.filter(status=status)
    if query:
        journeys = journeys.filter(name__icontains=query)
    page = Paginator(journeys, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "automation/journey_list.html", {
        "page": page, "status": status, "q": query, "statuses": JourneyStatus.choices})


@login_required
@permission_required("automation.view_journey", raise_exception=True)
def journey_detail(request, pk: int):
    journey = get_object_or_404(Journey, pk=pk)
    stats = selectors.journey_stats(journey)
    behind = sum(row["on_the_way"] for row in stats["versions"] if row["version"] < journey.version)
    return render(request, "automation/journey_detail.html", {
        "journey": journey, "stats": stats, "actions": available_actions(journey, request.user),
        "can_migrate": behind and request.user.has_perm("automation.change_journey")})


@login_required
@require_POST
@permission_required("automation.change_journey", raise_exception=True)
def journey_migrate(request, pk: int):
    journey = get_object_or_404(Journey, pk=pk)
    moved = services.journey_version_migrate(journey=journey)
    messages.success(request, f"{moved} contact(s) moved to version {journey.version}; those whose step it no "
                              "longer has stay on theirs.")
    return redirect("automation:journey-detail", pk=journey.pk)


@login_required
@require_POST
def journey_action(request, pk: int, name: str):
    journey = get_object_or_404(Journey, pk=pk)
    if name not in SERVICES or name not in [action.name for action in available_actions(journey, request.user)]:
        messages.error(request, "That action is not open to you on this journey now.")
        return redirect("automation:journey-detail", pk=journey.pk)
    try:
        SERVICES[name](journey=journey, by=request.user, via=Via.PAGE)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"{journey.name} {DONE[name]}")
    return redirect("automation:journey-detail", pk=journey.pk)
