"""Back-office pages of journeys: the list, and a journey's steps as a vertical flow with how many
contacts are on each, with the actions the person may take (the workflow's available_actions); and the
person's own tasks."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from aicmo_site.errors import DomainError
from aicmo_site.transitions import Via, available_actions
from automation import builder, selectors, services
from automation.choices import (
    BRANCHING,
    ENROLMENT_LIVE,
    JOURNEY_EVENTS,
    STEP_SETTINGS,
    ExitTrigger,
    JourneyStatus,
    ReEntry,
    StepKind,
    TriggerKind,
)
from automation.models import Journey
from crm.choices import LifecycleStatus
from crm.models import Contact, Segment, Tag
from crm.selectors import contact_list
from gateways.capabilities import Capability
from gateways.models import ProviderAccount

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
    test_query = request.GET.get("test_q", "").strip()
    found = list(contact_list(filters={"search": test_query})[:10]) if test_query else []
    may_change = request.user.has_perm("automation.change_journey")
    return render(request, "automation/journey_detail.html", {
        "journey": journey, "stats": stats, "actions": available_actions(journey, request.user),
        "may_change": may_change, "can_migrate": behind and may_change, "test_q": test_query, "found": found,
        **_test_runs(journey)})


@login_required
@require_POST
@permission_required("automation.change_journey", raise_exception=True)
def journey_migrate(request, pk: int):
    journey = get_object_or_404(Journey, pk=pk)
    moved = services.journey_version_migrate(journey=journey)
    messages.success(request, f"{moved} contact(s) moved to version {journey.version}; those whose step it no "
                              "longer has stay on theirs.")
    return redirect("automation:journey-detail", pk=journey.pk)


def _test_runs(journey: Journey) -> dict:
    runs = selectors.journey_test_runs(journey)
    return {"test_runs": runs, "polling": any(run.status in ENROLMENT_LIVE for run in runs)}


@login_required
@permission_required("automation.view_journey", raise_exception=True)
def journey_test_runs(request, pk: int):
    journey = get_object_or_404(Journey, pk=pk)
    return render(request, "automation/_test_runs.html", {"journey": journey, **_test_runs(journey)})


@login_required
@permission_required("automation.change_journey", raise_exception=True)
@require_POST
def journey_test_start(request, pk: int):
    journey = get_object_or_404(Journey, pk=pk)
    chosen = request.POST.get("contact", "")
    contact = Contact.objects.filter(pk=chosen, erased_at__isnull=True).first() if chosen.isdigit() else None
    if contact is None:
        messages.error(request, "Choose the contact to test with: search by email or name.")
    else:
        try:
            services.journey_test_start(journey=journey, contact=contact, by=request.user)
        except DomainError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, f"Test run started for {contact.email}: waits last a few seconds, and its "
                                      "emails go to that contact's own address.")
    return redirect(f"{journey.get_absolute_url()}#test-mode")


def _builder_choices() -> dict:
    from django.contrib.auth import get_user_model

    from crm.models import ContactList
    from publishing.email.models import EmailTemplate
    from webhooks.models import WebhookSubscription

    return {
        "kinds": StepKind.choices, "settings": STEP_SETTINGS, "reentries": ReEntry.choices,
        "triggers": TriggerKind.choices, "events": JOURNEY_EVENTS, "exits": ExitTrigger.choices,
        "segments": list(Segment.objects.order_by("name").values_list("pk", "name")),
        "templates": list(EmailTemplate.objects.order_by("name").values_list("pk", "name")),
        "tags": list(Tag.objects.order_by("name").values_list("name", flat=True)[:500]),
        "stages": LifecycleStatus.choices,
        "lists": list(ContactList.objects.order_by("name").values_list("pk", "name")[:500]),
        "subscriptions": list(WebhookSubscription.objects.filter(active=True).order_by("name")
                              .values_list("pk", "name")[:200]),
        "users": [(pk, name or email) for pk, name, email in get_user_model().objects.filter(is_active=True)
                  .order_by("username").values_list("pk", "username", "email")[:500]],
        "journeys": list(Journey.objects.order_by("name").values_list("pk", "name")[:500]),
        "slack_accounts": list(ProviderAccount.objects.filter(capability=Capability.CHANNEL_POSTING, channel="slack")
                               .order_by("name").values_list("pk", "name")[:200]),
    }


@login_required
@permission_required("automation.change_journey", raise_exception=True)
def journey_builder(request, pk: int | None = None):
    """Create a journey, or change a draft: the journey's settings and its steps in one form. The steps of a
    live journey (active or paused) are saved as its next version, which new entrants start on; those on
    the way stay on theirs unless the marketer moves them (to the step of the same key, where it remains)."""
    journey = get_object_or_404(Journey, pk=pk) if pk else None
    if journey and journey.status == JourneyStatus.ARCHIVED:
        messages.error(request, "An archived journey cannot be changed.")
        return redirect(journey)
    live = journey is not None and journey.status != JourneyStatus.DRAFT
    journey_errors, step_errors = {}, []
    if request.method == "POST" and live:
        rows = builder.rows_from_post(request.POST)
        operation = request.POST.get("op", "save")
        if operation != "save":
            rows = builder.rows_edit(rows, operation)
        else:
            try:
                saved = _version_save(request, journey, rows)
            except ValidationError as error:
                journey_errors, step_errors = builder.errors_placed(error, rows)
            except DomainError as error:
                journey_errors = {"__all__": [error.message]}
            else:
                return redirect(saved)
        initial = builder.journey_fields_initial({name: getattr(journey, name) for name in builder.JOURNEY_FIELDS})
    elif request.method == "POST":
        fields, rows = builder.journey_fields_from_post(request.POST), builder.rows_from_post(request.POST)
        if journey:
            # The form shows the first entry trigger; more, set through the API, are kept as they are.
            fields["entry_triggers"] += journey.entry_triggers[1:]
        operation = request.POST.get("op", "save")
        if operation != "save":
            rows = builder.rows_edit(rows, operation)
        else:
            try:
                if journey:
                    services.journey_update(journey=journey, steps=builder.steps_from_rows(rows), **fields)
                else:
                    journey = services.journey_create(by=request.user, steps=builder.steps_from_rows(rows), **fields)
            except ValidationError as error:
                journey_errors, step_errors = builder.errors_placed(error, rows)
            except DomainError as error:
                journey_errors = {"__all__": [error.message]}
            else:
                messages.success(request, f"{journey.name} is saved as a draft. Activate it when it is ready.")
                return redirect(journey)
        initial = builder.journey_fields_initial(fields)
    elif journey:
        initial = builder.journey_fields_initial({name: getattr(journey, name) for name in builder.JOURNEY_FIELDS})
        rows = builder.rows_from_steps(journey.steps.filter(version=journey.version))
    else:
        initial = builder.journey_fields_initial({"exit_triggers": [ExitTrigger.UNSUBSCRIBED]})
        rows = [{"key": "start", "kind": StepKind.ADD_TAG, "next": "end", "other": "", "values": {}},
                {"key": "end", "kind": StepKind.EXIT, "next": "", "other": "", "values": {}}]
    step_errors = step_errors or [[] for _row in rows]
    choices = _builder_choices()
    shown = [{**row, "index": index, "errors": errors, "branching": row["kind"] in BRANCHING,
              "panels": builder.row_panels(row, index, choices)}
             for index, (row, errors) in enumerate(zip(rows, step_errors, strict=True))]
    return render(request, "automation/journey_builder.html", {
        "journey": journey, "live": live, "next_version": journey.version + 1 if live else None,
        "initial": initial, "rows": shown, "keys": [row["key"] for row in rows if row["key"]],
        "journey_errors": journey_errors, "invalid": bool(journey_errors or any(step_errors)), **choices},
        status=400 if journey_errors or any(step_errors) else 200)


def _version_save(request, journey: Journey, rows: list[dict]) -> Journey:
    """The steps as the live journey's next version; those on the way moved to it when the marketer asks."""
    with transaction.atomic():
        journey = services.journey_version_create(journey=journey, steps=builder.steps_from_rows(rows),
                                                  by=request.user)
        moved = services.journey_version_migrate(journey=journey) if request.POST.get("migrate") else None
    if moved is None:
        stay = "Contacts already on the way stay on the version they started."
    else:
        stay = (f"{moved} contact(s) on the way moved to it; those whose step it no longer has stay on their "
                "version.")
    messages.success(request, f"{journey.name}: saved as version {journey.version}, which new entrants start "
                              f"on. {stay}")
    return journey


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
