"""Statuses and kinds of journeys, with the journey's allowed moves next to them."""

from dataclasses import dataclass

from django.db import models


class JourneyStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    ACTIVE = "active", "Active"
    PAUSED = "paused", "Paused"
    ARCHIVED = "archived", "Archived"


JOURNEY_TRANSITIONS = {
    JourneyStatus.DRAFT: {JourneyStatus.ACTIVE, JourneyStatus.ARCHIVED},
    JourneyStatus.ACTIVE: {JourneyStatus.PAUSED, JourneyStatus.ARCHIVED},
    JourneyStatus.PAUSED: {JourneyStatus.ACTIVE, JourneyStatus.ARCHIVED},
    JourneyStatus.ARCHIVED: set(),
}
JOURNEY_TERMINAL = frozenset({JourneyStatus.ARCHIVED})


class ReEntry(models.TextChoices):
    ONCE_EVER = "once_ever", "Once ever"
    ONCE_AT_A_TIME = "once_at_a_time", "Once at a time"
    EVERY_TIME = "every_time", "Every time"


class StepKind(models.TextChoices):
    WAIT = "wait", "Wait"
    CONDITION = "condition", "Condition"
    RANDOM_SPLIT = "random_split", "Random split"
    SEND_EMAIL = "send_email", "Send an email"
    ADD_TAG = "add_tag", "Add a tag"
    REMOVE_TAG = "remove_tag", "Remove a tag"
    SET_LIFECYCLE = "set_lifecycle", "Change the lifecycle stage"
    SET_FIELD = "set_field", "Set a field"
    EXIT = "exit", "Exit"


# Steps with two ways out: `next` when the condition holds (or the first share of a split), `other`
# otherwise. Every other step but exit goes on to `next`.
BRANCHING = frozenset({StepKind.CONDITION, StepKind.RANDOM_SPLIT})


class EnrolmentStatus(models.TextChoices):
    ACTIVE = "active", "On a step, due now"
    WAITING = "waiting", "Waiting"
    DONE = "done", "Finished the journey"
    EXITED = "exited", "Left the journey"


# A contact in these is still in the journey: the runner takes them when due.
ENROLMENT_LIVE = (EnrolmentStatus.ACTIVE, EnrolmentStatus.WAITING)


class TriggerKind(models.TextChoices):
    SEGMENT_ENTERED = "segment_entered", "Joins a segment"
    EVENT = "event", "An engagement event"
    MANUAL = "manual", "Added by hand, the API or an import"


class ExitTrigger(models.TextChoices):
    UNSUBSCRIBED = "unsubscribed", "Unsubscribed"
    CONVERTED = "converted", "Converted"
    LEFT_SEGMENT = "left_segment", "Left the entry segment"


@dataclass(frozen=True)
class StepSetting:
    """One setting of a step kind as the builder asks for it. `name` is its key in the step's config;
    `shown_for` ties it to one answer of the kind's "ask" setting (a condition asks one thing).

    `input`: text, number, tag (a tag by name), email_template, segment (picked by name), lifecycle,
    or ask (the config gets the chosen answer as its key)."""

    name: str
    label: str
    input: str = "text"
    choices: tuple[tuple[str, str], ...] = ()
    shown_for: str = ""


CONDITION_ASKS = (
    ("tag", "Has the tag"), ("lifecycle", "Is at the lifecycle stage"), ("field", "Has a field equal to"),
    ("segment_id", "Is in the segment"), ("clicked_last_email", "Clicked the journey's last email"),
    ("opened_last_email", "Opened the journey's last email"),
)

# What the builder asks for each step kind: a new kind declares its settings here and the builder,
# its checks (graph.py) and the runner do the rest.
STEP_SETTINGS: dict[str, tuple[StepSetting, ...]] = {
    StepKind.WAIT: tuple(StepSetting(unit, unit.capitalize(), "number") for unit in
                         ("days", "hours", "minutes", "seconds")),
    StepKind.CONDITION: (
        StepSetting("ask", "Go on by “yes” when the contact", "ask", CONDITION_ASKS),
        StepSetting("tag", "Tag", "tag", shown_for="tag"),
        StepSetting("lifecycle", "Lifecycle stage", "lifecycle", shown_for="lifecycle"),
        StepSetting("field", "Field", shown_for="field"),
        StepSetting("equals", "Equal to", shown_for="field"),
        StepSetting("segment_id", "Segment", "segment", shown_for="segment_id"),
    ),
    StepKind.RANDOM_SPLIT: (StepSetting("percent", "Share of contacts on the first path (%)", "number"),),
    StepKind.SEND_EMAIL: (StepSetting("template_id", "Email template", "email_template"),),
    StepKind.ADD_TAG: (StepSetting("tag", "Tag", "tag"),),
    StepKind.REMOVE_TAG: (StepSetting("tag", "Tag", "tag"),),
    StepKind.SET_LIFECYCLE: (StepSetting("stage", "Lifecycle stage", "lifecycle"),),
    StepKind.SET_FIELD: (StepSetting("field", "Field"), StepSetting("value", "Value")),
    StepKind.EXIT: (),
}
