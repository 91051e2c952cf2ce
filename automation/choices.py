"""Statuses and kinds of journeys, with the journey's allowed moves next to them."""

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


class TriggerKind(models.TextChoices):
    SEGMENT_ENTERED = "segment_entered", "Joins a segment"
    EVENT = "event", "An engagement event"
    LIFECYCLE = "lifecycle", "Reaches a lifecycle stage"
    DATE = "date_field", "A date of theirs comes round"
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
