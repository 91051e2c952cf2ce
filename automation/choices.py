"""Statuses and kinds of journeys, with the journey's allowed moves next to them."""

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
    ADD_TO_LIST = "add_to_list", "Add to a list"
    REMOVE_FROM_LIST = "remove_from_list", "Remove from a list"
    CALL_WEBHOOK = "call_webhook", "Call a signed webhook"
    NOTIFY = "notify", "Notify a person"
    ENROL = "enrol", "Enrol in another journey"
    CREATE_TASK = "create_task", "Create a task for a person"
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


class NotificationStatus(models.TextChoices):
    PENDING = "pending", "Waiting to be sent"
    SENDING = "sending", "Being sent"
    SENT = "sent", "Sent"
    FAILED = "failed", "Not sent"
    UNKNOWN = "unknown", "Outcome unknown"
