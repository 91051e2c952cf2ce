"""A journey's life: created with its steps (checked as a graph), activated (its email steps' sends
opened), paused, archived; contacts enrolled (set-based, honouring the re-entry rule) and removed."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from aicmo_site.errors import ConflictError, DomainError
from aicmo_site.transitions import Action, Workflow
from automation.choices import (
    ENROLMENT_LIVE,
    ENROLMENT_TERMINAL,
    ENROLMENT_TRANSITIONS,
    JOURNEY_EVENTS,
    JOURNEY_TERMINAL,
    JOURNEY_TRANSITIONS,
    EnrolmentStatus,
    ExitTrigger,
    JourneyStatus,
    ReEntry,
    StepKind,
    TriggerKind,
)
from automation.models import Journey, JourneyEnrolment, JourneyStep
from automation.services.graph import graph_validate
from automation.services.triggers import journey_triggers_start
from crm.choices import EventKind
from crm.models import Contact, Segment

CHANGE = "automation.change_journey"
JOURNEY_WORKFLOW = Workflow(
    model=Journey, transitions=JOURNEY_TRANSITIONS, terminal=JOURNEY_TERMINAL, noun="journey", clean_exclude=(),
    actions=[
        Action("activate", "Activate", to=JourneyStatus.ACTIVE, permission=CHANGE),
        Action("pause", "Pause", to=JourneyStatus.PAUSED, permission=CHANGE),
        Action("archive", "Archive", to=JourneyStatus.ARCHIVED, permission=CHANGE),
    ],
)
# A contact's way through a journey. The runner, the exit triggers and an archive move contacts set-based
# for whole batches (the step log and the journey's own move are their record); a person taking a contact
# off goes through here, one audited move per enrolment.
ENROLMENT_WORKFLOW = Workflow(
    model=JourneyEnrolment, transitions=ENROLMENT_TRANSITIONS, terminal=ENROLMENT_TERMINAL, noun="enrolment",
    actions=[Action("remove", "Take off the journey", to=EnrolmentStatus.EXITED, permission=CHANGE)],
)
STEP_FIELDS = ("key", "kind", "config", "next", "other")


def _triggers_validate(entry_triggers, exit_triggers, goal) -> None:
    errors: dict[str, list[str]] = {}
    if not isinstance(entry_triggers, list):
        entry_triggers = [None]
    for index, trigger in enumerate(entry_triggers):
        here = f"entry_triggers[{index}]"
        kind = trigger.get("kind") if isinstance(trigger, dict) else None
        if kind == TriggerKind.SEGMENT_ENTERED:
            if not Segment.objects.filter(pk=trigger.get("segment_id") if isinstance(trigger.get("segment_id"), int)
                                          else None).exists():
                errors[here] = ["Choose a segment that exists."]
        elif kind == TriggerKind.EVENT:
            if trigger.get("event_kind") not in JOURNEY_EVENTS:
                errors[here] = [f"Choose an event: {', '.join(JOURNEY_EVENTS)}."]
            elif trigger.get("paid") and trigger["event_kind"] != EventKind.CONVERTED:
                errors[here] = ["A payment is a conversion: choose the converted event."]
        elif kind == TriggerKind.LIFECYCLE:
            if trigger.get("stage") not in _stages():
                errors[here] = ["Choose a lifecycle stage."]
        elif kind == TriggerKind.DATE:
            if not slugify(str(trigger.get("field") or "")) or not isinstance(trigger.get("offset_days", 0), int):
                errors[here] = ['Name the date field and the days after it (negative: before), e.g. '
                                '{"field": "renewal_date", "offset_days": -7}.']
        elif kind == TriggerKind.TAG_ADDED:
            if not isinstance(trigger.get("tag"), str) or not trigger["tag"].strip():
                errors[here] = ["Name the tag that enrols contacts when they get it."]
        elif kind != TriggerKind.MANUAL:
            errors[here] = [f"Choose a kind: {', '.join(TriggerKind.values)}."]
    if not isinstance(exit_triggers, list) or any(item not in ExitTrigger.values for item in exit_triggers):
        errors["exit_triggers"] = [f"Choose among: {', '.join(ExitTrigger.values)}."]
    elif ExitTrigger.LEFT_SEGMENT in exit_triggers and not any(
            isinstance(t, dict) and t.get("kind") == TriggerKind.SEGMENT_ENTERED for t in entry_triggers):
        errors["exit_triggers"] = ["Leaving the segment needs a segment among the entry triggers."]
    if not isinstance(goal, dict) or len(goal) > 1 or (goal and not (
            isinstance(goal.get("tag"), str) and goal["tag"].strip() or goal.get("lifecycle") in _stages())):
        errors["goal"] = ['Give none, {"tag": name} or {"lifecycle": stage}.']
    if errors:
        raise ValidationError(errors)


def _stages():
    from crm.choices import LifecycleStatus

    return LifecycleStatus.values


def _steps_save(journey: Journey, steps: list[dict], version: int = 1) -> None:
    graph_validate(steps)
    JourneyStep.objects.filter(journey=journey, version=version).delete()
    JourneyStep.objects.bulk_create(
        JourneyStep(journey=journey, version=version, position=position, key=step["key"], kind=step["kind"],
                    config=step.get("config") or {}, next=step.get("next") or "", other=step.get("other") or "")
        for position, step in enumerate(steps))


def _email_steps_open(journey: Journey, by) -> None:
    """A send for every email step that has none yet, so a journey whose email cannot go out (no
    provider, no unsubscribe link) is refused rather than left to fail contact by contact."""
    from publishing.email.models import EmailTemplate
    from publishing.email.services import email_campaign_open
    from publishing.services import campaign_create

    for step in JourneyStep.objects.filter(journey=journey, kind=StepKind.SEND_EMAIL, email_campaign__isnull=True):
        template = EmailTemplate.objects.get(pk=step.config["template_id"])
        name = f"Journey {journey.name}: {step.key}" + (f" (v{step.version})" if step.version > 1 else "")
        campaign = campaign_create(by=by, name=name, description="Sent one contact at a time by the journey.")
        step.email_campaign = email_campaign_open(campaign=campaign, template=template, by=by)
        step.save(update_fields=["email_campaign"])


@transaction.atomic
def journey_create(*, by=None, name: str, steps: list[dict], description: str = "", reentry: str = ReEntry.ONCE_EVER,
                   entry_triggers: list | None = None, exit_triggers: list | None = None,
                   goal: dict | None = None) -> Journey:
    journey = Journey(name=name, description=description, reentry=reentry, entry_triggers=entry_triggers or [],
                      exit_triggers=exit_triggers or [], goal=goal or {}, created_by=by)
    journey.full_clean()
    _triggers_validate(journey.entry_triggers, journey.exit_triggers, journey.goal)
    journey.save()
    _steps_save(journey, steps)
    return journey


@transaction.atomic
def journey_update(*, journey: Journey, steps: list[dict] | None = None, **fields) -> Journey:
    """Only a draft changes: contacts on their way through a live journey keep the steps they started
    (versions for live edits come with the builder)."""
    journey = Journey.objects.select_for_update().get(pk=journey.pk)
    if journey.status != JourneyStatus.DRAFT:
        raise ConflictError("Only a draft journey can be changed.", code="not_draft")
    for name, value in fields.items():
        setattr(journey, name, value)
    journey.full_clean()
    _triggers_validate(journey.entry_triggers, journey.exit_triggers, journey.goal)
    journey.save()
    if steps is not None:
        _steps_save(journey, steps)
    return journey


def _lock(journey: Journey) -> Journey:
    """The journey's row locked for the rest of the transaction, as a new version's is: the steps read
    next are then the last saved (an edit committing meanwhile would otherwise leave its email steps'
    sends unopened, or open after an archive)."""
    return Journey.objects.select_for_update().get(pk=journey.pk)


@transaction.atomic
def journey_activate(*, journey: Journey, by=None, via: str = "") -> Journey:
    """Opens a send for every email step first (see _email_steps_open)."""
    locked = _lock(journey)
    JOURNEY_WORKFLOW.check_action(locked, "activate", by)
    _email_steps_open(journey, by)
    now = timezone.now()
    if locked.activated_at is None:
        journey_triggers_start(journey=journey)
    return JOURNEY_WORKFLOW.transition(journey, JourneyStatus.ACTIVE, by=by, via=via, fields={
        "activated_at": now, "events_since": locked.events_since or now})


def journey_pause(*, journey: Journey, by=None, via: str = "") -> Journey:
    """Contacts stay where they are; the runner leaves them until the journey is active again."""
    JOURNEY_WORKFLOW.check_action(journey, "pause", by)
    return JOURNEY_WORKFLOW.transition(journey, JourneyStatus.PAUSED, by=by, via=via)


@transaction.atomic
def journey_archive(*, journey: Journey, by=None, via: str = "") -> Journey:
    """Everyone still on the way leaves it; its sends finish what is queued and complete."""
    from publishing.email.services import email_campaign_close

    JOURNEY_WORKFLOW.check_action(_lock(journey), "archive", by)
    for step in JourneyStep.objects.filter(journey=journey, email_campaign__isnull=False).select_related(
            "email_campaign"):
        email_campaign_close(email_campaign=step.email_campaign)
    JourneyEnrolment.objects.filter(journey=journey, status__in=ENROLMENT_LIVE).update(
        status=EnrolmentStatus.EXITED, exit_reason="journey archived", finished_at=timezone.now(), due_at=None)
    return JOURNEY_WORKFLOW.transition(journey, JourneyStatus.ARCHIVED, by=by, via=via)


@transaction.atomic
def journey_remove_contact(*, journey: Journey, contact: Contact, reason: str = "removed by hand", by=None,
                           via: str = "") -> int:
    """Takes the contact off the journey, recording who did it; a step already applied stays applied.
    Returns how many enrolments left (more than one only on a journey entered every time), 0 when the
    contact was not on it. The rows are locked first, so a runner batch holding them finishes before."""
    now = timezone.now()
    enrolments = list(JourneyEnrolment.objects.select_for_update().filter(
        journey=journey, contact=contact, status__in=ENROLMENT_LIVE).order_by("pk"))
    for enrolment in enrolments:
        ENROLMENT_WORKFLOW.check_action(enrolment, "remove", by)
        ENROLMENT_WORKFLOW.transition(enrolment, EnrolmentStatus.EXITED, by=by, note=reason, via=via, locked=True,
                                      fields={"exit_reason": reason[:40], "finished_at": now, "due_at": None})
    return len(enrolments)


@transaction.atomic
def journey_version_create(*, journey: Journey, steps: list[dict], by=None) -> Journey:
    """Editing a live journey: the steps are checked as a graph and saved as the next version, which
    new entrants start on from now; everyone on the way stays on the version they are on."""
    journey = Journey.objects.select_for_update().get(pk=journey.pk)
    if journey.status not in (JourneyStatus.ACTIVE, JourneyStatus.PAUSED):
        raise ConflictError("A new version is for a live journey: change a draft directly.", code="not_live")
    if not isinstance(steps, list):
        raise DomainError("Give the steps as a list.", code="invalid_steps")
    version = journey.version + 1
    _steps_save(journey, steps, version=version)
    _email_steps_open(journey, by)
    Journey.objects.filter(pk=journey.pk).update(version=version, updated_at=timezone.now())
    journey.version = version
    return journey


@transaction.atomic
def journey_version_migrate(*, journey: Journey) -> int:
    """Moves those on an older version to the current version's step of the same key and kind; those
    whose step is gone (or changed kind) stay on their version. One UPDATE per old step, each
    conditioned on the enrolment still being on that step, so a contact the runner moves meanwhile
    is left where the runner put it. Returns how many moved."""
    current = {(key, kind): pk for pk, key, kind in JourneyStep.objects.filter(
        journey=journey, version=journey.version).values_list("pk", "key", "kind")}
    moved = 0
    older = JourneyStep.objects.filter(journey=journey, version__lt=journey.version).values_list("pk", "key", "kind")
    for old_pk, key, kind in older:
        if (key, kind) in current:
            moved += JourneyEnrolment.objects.filter(step_id=old_pk, status__in=ENROLMENT_LIVE).update(
                step_id=current[(key, kind)])
    return moved


def journey_check(*, steps: list[dict]) -> None:
    """Raise the graph's errors without saving (the API's validate)."""
    if not isinstance(steps, list):
        raise DomainError("Give the steps as a list.", code="invalid_steps")
    graph_validate(steps)
