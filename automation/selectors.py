"""Reads of journeys: the list with its steps, where contacts are in one journey; people's tasks."""

from django.db.models import Count, F, Prefetch, Q, QuerySet

from automation.choices import ENROLMENT_LIVE, EnrolmentStatus
from automation.models import Journey, JourneyEnrolment, JourneyStep, JourneyStepRun, Task


def journey_list() -> QuerySet[Journey]:
    return Journey.objects.prefetch_related(Prefetch("steps", queryset=JourneyStep.objects.filter(
        version=F("journey__version")).order_by("position")))


def journey_stats(journey: Journey) -> dict:
    """Per step: contacts on it now and how many went through it (by outcome); for the journey: how
    many are on the way, finished, left. Three grouped queries whatever the size."""
    on_step = dict(JourneyEnrolment.objects.filter(journey=journey, status__in=ENROLMENT_LIVE)
                   .values_list("step_id").annotate(count=Count("id")).order_by())
    passed: dict[int, dict[str, int]] = {}
    for step_id, outcome, count in (JourneyStepRun.objects.filter(step__journey=journey)
                                    .values_list("step_id", "outcome").annotate(count=Count("id")).order_by()):
        passed.setdefault(step_id, {})[outcome] = count
    totals = JourneyEnrolment.objects.filter(journey=journey).aggregate(
        on_the_way=Count("id", filter=Q(status__in=ENROLMENT_LIVE)),
        finished=Count("id", filter=Q(status=EnrolmentStatus.DONE)),
        left=Count("id", filter=Q(status=EnrolmentStatus.EXITED)))
    steps = [{"key": step.key, "kind": step.kind, "label": step.get_kind_display(), "next": step.next,
              "other": step.other, "on_step": on_step.get(step.pk, 0),
              "went_through": sum(passed.get(step.pk, {}).values()), "outcomes": passed.get(step.pk, {})}
             for step in journey.steps.filter(version=journey.version).order_by("position")]
    versions = list(JourneyEnrolment.objects.filter(journey=journey, status__in=ENROLMENT_LIVE)
                    .values("step__version").annotate(on_the_way=Count("id")).order_by("step__version"))
    return {**totals, "version": journey.version, "steps": steps,
            "versions": [{"version": row["step__version"], "on_the_way": row["on_the_way"]} for row in versions]}


def tasks_of(user, *, done: bool | None = False, query: str = "") -> QuerySet[Task]:
    """A person's tasks, soonest due first (those without a date last), with their contact and journey."""
    tasks = Task.objects.filter(assignee=user).select_related("contact", "step__journey")
    if done is not None:
        tasks = tasks.filter(done=done)
    if query:
        tasks = tasks.filter(Q(title__icontains=query) | Q(contact__email__icontains=query)
                             | Q(contact__first_name__icontains=query) | Q(contact__last_name__icontains=query))
    return tasks.order_by(F("due_on").asc(nulls_last=True), "id")
