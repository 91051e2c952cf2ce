"""Back-office pages of journeys: the list, and a journey's steps as a vertical flow with how many
contacts are on each, with the actions the person may take (the workflow's available_actions); and the
person's own tasks."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
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


TASK_SHOWN = {"open": False, "done": True, "all": None}


@login_required
@permission_required("automation.view_task", raise_exception=True)
def task_list(request):
    shown, query = request.GET.get("shown", "open"), request.GET.get("q", "").strip()
    shown = shown if shown in TASK_SHOWN else "open"
    page = Paginator(selectors.tasks_of(request.user, done=TASK_SHOWN[shown], query=query), PAGE_SIZE).get_page(
        request.GET.get("page"))
    return render(request, "automation/task_list.html", {"page": page, "shown": shown, "q": query})


@login_required
@permission_required("automation.view_task", raise_exception=True)
@require_POST
def task_done(request, pk: int):
    task = get_object_or_404(selectors.tasks_of(request.user, done=None), pk=pk)
    services.task_mark_done(task=task, by=request.user)
    messages.success(request, f"Done: {task.title} ({task.contact.email}).")
    back = request.POST.get("back", "")
    # Back to the same filtered page, never to another site.
    if back.startswith("/") and url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
        return redirect(back)
    return redirect("automation:task-list")
