"""Reads of journeys: the list with its steps, where contacts are in one journey with each step's
figures (test runs left out); people's tasks."""

from datetime import timedelta

from django.db.models import (
    Count,
    DurationField,
    ExpressionWrapper,
    F,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Window,
)
from django.db.models.functions import RowNumber
from django.utils import timezone

from automation.choices import BRANCHING, ENROLMENT_LIVE, EnrolmentStatus, JourneyStatus, StepKind, TriggerKind
from automation.conf import runner_loop_alive_seconds
from automation.models import Journey, JourneyEnrolment, JourneyStep, JourneyStepRun, RunnerLoop, Task

GOAL_REACHED = "goal reached"
# The runner's exit reason for a contact who went through the exit step (see runner.journeys_run_batch).
EXIT_STEP = "exit step"


def journeys_active_choices() -> list[tuple[int, str]]:
    """The journeys contacts may be put in now (an import offers them), by name."""
    return list(Journey.objects.filter(status=JourneyStatus.ACTIVE).order_by("name").values_list("pk", "name")[:500])


def journey_list() -> QuerySet[Journey]:
    return Journey.objects.prefetch_related(Prefetch("steps", queryset=JourneyStep.objects.filter(
        version=F("journey__version")).order_by("position")))


def _median_time_per_step(journey: Journey) -> dict[int, timedelta]:
    """Per step, the median time from a contact's going through it to their next step (for a wait, the
    wait itself), in one query: the log's rows ranked by that time within their step, only the middle
    ones read."""
    left_at = JourneyStepRun.objects.filter(enrolment_id=OuterRef("enrolment_id"), visit=OuterRef("visit") + 1)
    timed = (JourneyStepRun.objects.filter(step__journey=journey, enrolment__is_test=False)
             .annotate(left_at=Subquery(left_at.values("ran_at")[:1])).filter(left_at__isnull=False)
             .annotate(spent=ExpressionWrapper(F("left_at") - F("ran_at"), output_field=DurationField()))
             .annotate(rank=Window(RowNumber(), partition_by=[F("step_id")], order_by=[F("spent").asc(), F("id")]),
                       out_of=Window(Count("id"), partition_by=[F("step_id")])))
    middle: dict[int, list[timedelta]] = {}
    for step_id, spent, rank, out_of in (timed.filter(rank__gte=F("out_of") / 2, rank__lte=F("out_of") / 2 + 1)
                                         .values_list("step_id", "spent", "rank", "out_of").order_by()):
        if rank in {(out_of + 1) // 2, out_of // 2 + 1}:
            middle.setdefault(step_id, []).append(spent)
    return {step_id: sum(times, timedelta()) / len(times) for step_id, times in middle.items()}


def _share(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def journey_stats(journey: Journey) -> dict:
    """Per step: contacts on it now, how many reached it and went on (conversion), the yes/no or
    first/second share of a branch, the median time to the next step; for the journey: how many are on
    the way, finished, reached the goal, left; and how many are on each version. Six queries whatever the
    journey's size."""
    real = JourneyEnrolment.objects.filter(journey=journey, is_test=False)
    on_step, stopped = {}, {}
    for step_id, live, ended in (real.exclude(step=None).exclude(exit_reason=EXIT_STEP).values("step_id").annotate(
            live=Count("id", filter=Q(status__in=ENROLMENT_LIVE)), ended=Count("id", filter=~Q(
                status__in=ENROLMENT_LIVE))).values_list("step_id", "live", "ended").order_by()):
        on_step[step_id], stopped[step_id] = live, ended
    passed: dict[int, dict[str, int]] = {}
    for step_id, outcome, count in (JourneyStepRun.objects.filter(step__journey=journey, enrolment__is_test=False)
                                    .values_list("step_id", "outcome").annotate(count=Count("id")).order_by()):
        passed.setdefault(step_id, {})[outcome] = count
    totals = real.aggregate(
        on_the_way=Count("id", filter=Q(status__in=ENROLMENT_LIVE)),
        finished=Count("id", filter=Q(status=EnrolmentStatus.DONE)),
        goal_reached=Count("id", filter=Q(exit_reason=GOAL_REACHED)),
        left=Count("id", filter=Q(status=EnrolmentStatus.EXITED)))
    medians = _median_time_per_step(journey)
    steps = []
    for step in journey.steps.filter(version=journey.version).order_by("position"):
        outcomes = passed.get(step.pk, {})
        went_through = sum(outcomes.values())
        reached = went_through + on_step.get(step.pk, 0) + stopped.get(step.pk, 0)
        first, second = ("yes", "no") if step.kind == StepKind.CONDITION else ("first", "second")
        steps.append({
            "key": step.key, "kind": step.kind, "label": step.get_kind_display(), "next": step.next,
            "other": step.other, "on_step": on_step.get(step.pk, 0), "reached": reached,
            "went_through": went_through, "outcomes": outcomes,
            "conversion": None if step.kind == StepKind.EXIT else _share(went_through, reached),
            "branch_shares": ({first: _share(outcomes.get(first, 0), went_through),
                               second: _share(outcomes.get(second, 0), went_through)}
                              if step.kind in BRANCHING else None),
            "median_time": medians.get(step.pk)})
    versions = list(JourneyEnrolment.objects.filter(journey=journey, status__in=ENROLMENT_LIVE, is_test=False)
                    .values("step__version").annotate(on_the_way=Count("id")).order_by("step__version"))
    return {**totals, "version": journey.version, "steps": steps,
            "versions": [{"version": row["step__version"], "on_the_way": row["on_the_way"]} for row in versions]}


def journey_test_runs(journey: Journey, *, limit: int = 5) -> list[JourneyEnrolment]:
    """The latest test runs of the journey with their step logs, for the test mode's live view."""
    return list(JourneyEnrolment.objects.filter(journey=journey, is_test=True).select_related("contact", "step")
                .prefetch_related(Prefetch("runs", queryset=JourneyStepRun.objects.select_related("step")
                                           .order_by("visit")))
                .order_by("-entered_at", "-id")[:limit])


def tasks_of(user, *, done: bool | None = False, query: str = "") -> QuerySet[Task]:
    """A person's tasks, soonest due first (those without a date last), with their contact and journey."""
    tasks = Task.objects.filter(assignee=user).select_related("contact", "step__journey")
    if done is not None:
        tasks = tasks.filter(done=done)
    if query:
        tasks = tasks.filter(Q(title__icontains=query) | Q(contact__email__icontains=query)
                             | Q(contact__first_name__icontains=query) | Q(contact__last_name__icontains=query))
    return tasks.order_by(F("due_on").asc(nulls_last=True), "id")


def journeys_next_due():
    """When the next contact-step of an active journey falls due (None: none waits), read from the
    partial due index."""
    return (JourneyEnrolment.objects.filter(status__in=ENROLMENT_LIVE, due_at__isnull=False,
                                            journey__status=JourneyStatus.ACTIVE)
            .order_by("due_at").values_list("due_at", flat=True).first())


def runner_loop_alive(now=None) -> bool:
    """Whether a `run_journeys --loop` was seen lately: it takes the due steps, the worker's runs leave them."""
    since = (now or timezone.now()) - timedelta(seconds=runner_loop_alive_seconds())
    return RunnerLoop.objects.filter(seen_at__gte=since).exists()


def journeys_tag_triggers(names) -> set[str]:
    """The names among these that an active journey starts on (gets that tag)."""
    wanted = set(names)
    return {trigger.get("tag") for triggers in Journey.objects.filter(status=JourneyStatus.ACTIVE)
            .values_list("entry_triggers", flat=True) for trigger in triggers
            if trigger.get("kind") == TriggerKind.TAG_ADDED and trigger.get("tag") in wanted}
