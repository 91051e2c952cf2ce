"""Statuses and kinds of journeys, with the journey's allowed moves next to them."""

from dataclasses import dataclass

from django.db import models

from crm.choices import EventKind


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
    WAIT_EVENT = "wait_event", "Wait for an event"
    CONDITION = "condition", "Condition"
    RANDOM_SPLIT = "random_split", "Random split"
    SEND_EMAIL = "send_email", "Send an email"
    ADD_TAG = "add_tag", "Add a tag"
    REMOVE_TAG = "remove_tag", "Remove a tag"
    SET_LIFECYCLE = "set_lifecycle", "Change the lifecycle stage"
    SET_FIELD = "set_field", "Set a field"
    ADD_TO_LIST = "add_to_list", "Add to a list"
    REMOVE_FROM_LIST = "remove_from_list", "Remove from a list"
    CALL_WEBHOOK = "call_webhook", "Call a signed webhook"
    NOTIFY = "notify", "Notify a person"
    ENROL = "enrol", "Enrol in another journey"
    CREATE_TASK = "create_task", "Create a task for a person"
    EXIT = "exit", "Exit"


# Steps with two ways out: `next` when the condition holds (or the first share of a split, or the
# awaited event happened), `other` otherwise (or the wait timed out). Every other step but exit goes on to `next`.
BRANCHING = frozenset({StepKind.CONDITION, StepKind.RANDOM_SPLIT, StepKind.WAIT_EVENT})


class EnrolmentStatus(models.TextChoices):
    ACTIVE = "active", "On a step, due now"
    WAITING = "waiting", "Waiting"
    AWAITING = "awaiting", "Waiting for an event"
    DONE = "done", "Finished the journey"
    EXITED = "exited", "Left the journey"


# A contact in these is still in the journey: the runner takes them when due.
ENROLMENT_LIVE = (EnrolmentStatus.ACTIVE, EnrolmentStatus.WAITING, EnrolmentStatus.AWAITING)
# The runner moves a contact between the live states step by step (a step due now after another is
# active again); a contact leaves for good by finishing or exiting: coming back is a new enrolment.
ENROLMENT_TRANSITIONS = {
    **{status: {*ENROLMENT_LIVE, EnrolmentStatus.DONE, EnrolmentStatus.EXITED} for status in ENROLMENT_LIVE},
    EnrolmentStatus.DONE: set(),
    EnrolmentStatus.EXITED: set(),
}
ENROLMENT_TERMINAL = frozenset({EnrolmentStatus.DONE, EnrolmentStatus.EXITED})


class TriggerKind(models.TextChoices):
    SEGMENT_ENTERED = "segment_entered", "Joins a segment"
    EVENT = "event", "An engagement event"
    LIFECYCLE = "lifecycle", "Reaches a lifecycle stage"
    DATE = "date_field", "A date of theirs comes round"
    TAG_ADDED = "tag_added", "Gets a tag"
    MANUAL = "manual", "Added by hand, the API or an import"


# Triggers read through the journey's cursor (events_since), all in one window per run.
CURSOR_TRIGGERS = frozenset({TriggerKind.EVENT, TriggerKind.LIFECYCLE})


class ExitTrigger(models.TextChoices):
    UNSUBSCRIBED = "unsubscribed", "Unsubscribed"
    CONVERTED = "converted", "Converted"
    LEFT_SEGMENT = "left_segment", "Left the entry segment"


# The engagement events a journey may start on or wait for (payments are conversions with a value).
JOURNEY_EVENTS = (EventKind.OPENED, EventKind.CLICKED, EventKind.FORM_SUBMIT, EventKind.CONVERTED,
                  EventKind.REPLIED, EventKind.PAGE_VIEW)


class NotificationStatus(models.TextChoices):
    PENDING = "pending", "Waiting to be sent"
    SENDING = "sending", "Being sent"
    SENT = "sent", "Sent"
    FAILED = "failed", "Not sent"
    UNKNOWN = "unknown", "Outcome unknown"


@dataclass(frozen=True)
class StepSetting:
    """One setting of a step kind as the builder asks for it. `name` is its key in the step's config;
    `shown_for` ties it to one answer of the kind's "ask" setting (a condition asks one thing).

    `input`: text, number, tag (a tag by name), lifecycle, one of PICKED (picked by name, kept as its id),
    or ask (the config gets the chosen answer as its key)."""

    name: str
    label: str
    input: str = "text"
    choices: tuple[tuple[str, str], ...] = ()
    shown_for: str = ""

    @property
    def picked(self) -> bool:
        return self.input in PICKED


# Settings the builder offers as a list of names and keeps as the id of what was picked.
PICKED = ("email_template", "segment", "list", "subscription", "user", "journey", "slack_account")
WEEKDAY_CHOICES = tuple((day, day.capitalize()) for day in
                        ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"))
_DURATION = tuple(StepSetting(unit, unit.capitalize(), "number") for unit in ("days", "hours", "minutes", "seconds"))


# When an email step's delivery goes: at once (also when not set), or at the hour within the next 24 hours
# at which the contact usually opens (the send option of the same name; the contact goes on at once either way).
DELIVER_AT_ONCE, DELIVER_AT_BEST_HOUR = "at_once", "best_hour"
DELIVER_CHOICES = ((DELIVER_AT_ONCE, "At once"),
                   (DELIVER_AT_BEST_HOUR, "At the contact's best hour within the next 24 hours"))

# A test run's email to a step set to the best hour goes at once (a tester does not wait a day), and the
# test log says so rather than letting the tester believe the real timing was shown.
TEST_SENT_NOW = "queued (test, now)"
OUTCOME_NOTES = {
    TEST_SENT_NOW: "Sent at once for the test; real contacts get this email at their best hour within the "
                   "next 24 hours.",
}

CONDITION_ASKS = (
    ("tag", "Has the tag"), ("lifecycle", "Is at the lifecycle stage"), ("field", "Has a field equal to"),
    ("segment_id", "Is in the segment"), ("clicked_last_email", "Clicked the journey's last email"),
    ("opened_last_email", "Opened the journey's last email"),
)

# What the builder asks for each step kind: a new kind declares its settings here and the builder,
# its checks (graph.py) and the runner do the rest.
STEP_SETTINGS: dict[str, tuple[StepSetting, ...]] = {
    StepKind.WAIT: (
        *_DURATION,
        StepSetting("until", "Or until a date and time (2026-12-24T09:00)"),
        StepSetting("until_field", "Or until the contact's date field (a custom field, or created_at)"),
        StepSetting("offset_days", "Days from that date (−3: three days before)", "number"),
        StepSetting("weekday", "Or until the next", "text", WEEKDAY_CHOICES),
        StepSetting("hour", "At the hour, in the contact's time zone (0–23)", "number"),
    ),
    StepKind.WAIT_EVENT: (
        StepSetting("event", "Until the contact", "text", tuple((kind.value, kind.label) for kind in JOURNEY_EVENTS)),
        *(StepSetting(s.name, f"Give up after ({s.label.lower()})", "number") for s in _DURATION),
    ),
    StepKind.ADD_TO_LIST: (StepSetting("list_id", "List", "list"),),
    StepKind.REMOVE_FROM_LIST: (StepSetting("list_id", "List", "list"),),
    StepKind.CALL_WEBHOOK: (StepSetting("subscription_id", "Webhook subscription", "subscription"),),
    StepKind.NOTIFY: (
        StepSetting("ask", "Notify", "ask",
                    (("user_id", "A person, by email"), ("slack_account_id", "A Slack channel"))),
        StepSetting("user_id", "Person to email", "user", shown_for="user_id"),
        StepSetting("slack_account_id", "Slack channel (a Slack provider account)", "slack_account",
                    shown_for="slack_account_id"),
    ),
    StepKind.ENROL: (StepSetting("journey_id", "Journey", "journey"),),
    StepKind.CREATE_TASK: (StepSetting("title", "Task"), StepSetting("user_id", "For", "user"),
                           StepSetting("due_in_days", "Due in (days)", "number")),
    StepKind.CONDITION: (
        StepSetting("ask", "Go on by “yes” when the contact", "ask", CONDITION_ASKS),
        StepSetting("tag", "Tag", "tag", shown_for="tag"),
        StepSetting("lifecycle", "Lifecycle stage", "lifecycle", shown_for="lifecycle"),
        StepSetting("field", "Field", shown_for="field"),
        StepSetting("equals", "Equal to", shown_for="field"),
        StepSetting("segment_id", "Segment", "segment", shown_for="segment_id"),
    ),
    StepKind.RANDOM_SPLIT: (StepSetting("percent", "Share of contacts on the first path (%)", "number"),),
    StepKind.SEND_EMAIL: (StepSetting("template_id", "Email template", "email_template"),
                          StepSetting("deliver", "Deliver", "text", DELIVER_CHOICES)),
    StepKind.ADD_TAG: (StepSetting("tag", "Tag", "tag"),),
    StepKind.REMOVE_TAG: (StepSetting("tag", "Tag", "tag"),),
    StepKind.SET_LIFECYCLE: (StepSetting("stage", "Lifecycle stage", "lifecycle"),),
    StepKind.SET_FIELD: (StepSetting("field", "Field"), StepSetting("value", "Value")),
    StepKind.EXIT: (),
}
