"""Journeys' data: the journey, its steps (a graph by step key), each contact's place in it (the source
of truth the runner works from) and one log row per step a contact went through. Workflows live in
automation/services."""

from django.conf import settings
from django.db import models
from django.db.models import Q

from automation.choices import (
    ENROLMENT_LIVE,
    OUTCOME_NOTES,
    EnrolmentStatus,
    JourneyStatus,
    NotificationStatus,
    ReEntry,
    StepKind,
)

__all__ = ["Journey", "JourneyEnrolment", "JourneyNotification", "JourneySegmentMember", "JourneyStep",
           "JourneyStepRun", "RunnerLoop", "Task"]


class Journey(models.Model):
    name = models.CharField(max_length=200, unique=True)
    description = models.TextField(blank=True)
    status = models.CharField(max_length=10, choices=JourneyStatus.choices, default=JourneyStatus.DRAFT,
                              editable=False, db_index=True)
    reentry = models.CharField(max_length=16, choices=ReEntry.choices, default=ReEntry.ONCE_EVER,
                               verbose_name="Re-entry", help_text="May a contact go through the journey again?")
    entry_triggers = models.JSONField(
        default=list, blank=True,
        help_text='What enrols a contact, e.g. [{"kind": "segment_entered", "segment_id": 3}, '
                  '{"kind": "event", "event_kind": "clicked"}]; anyone may also be added by hand or the API')
    exit_triggers = models.JSONField(default=list, blank=True,
                                     help_text='What takes a contact out, e.g. ["unsubscribed", "converted"]')
    goal = models.JSONField(default=dict, blank=True,
                            help_text='Reached: the contact has finished, e.g. {"tag": "customer"} or '
                                      '{"lifecycle": "converted"}')
    version = models.PositiveIntegerField(default=1, editable=False,
                                          help_text="The version of the steps new entrants start on")
    events_since = models.DateTimeField(null=True, blank=True, editable=False,
                                        help_text="Engagement events after this enrol; set on activation")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    activated_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("automation:journey-detail", args=[self.pk])


class JourneyStep(models.Model):
    """One box of the flow. `next` and `other` name the steps that follow by key (see choices.BRANCHING)."""

    journey = models.ForeignKey(Journey, on_delete=models.CASCADE, related_name="steps")
    key = models.SlugField(max_length=40, help_text="Names the step for the steps that lead to it")
    # A live journey edited gets a new version of its steps; contacts on an older one stay on it unless
    # moved to the step of the same key (journey_version_migrate).
    version = models.PositiveIntegerField(default=1, editable=False)
    position = models.PositiveSmallIntegerField(default=0, help_text="The first step is where contacts start")
    kind = models.CharField(max_length=16, choices=StepKind.choices)
    config = models.JSONField(default=dict, blank=True)
    next = models.SlugField(max_length=40, blank=True, help_text="The step that follows (when a condition holds)")
    other = models.SlugField(max_length=40, blank=True, help_text="The step that follows when a condition fails")
    email_campaign = models.ForeignKey("publishing.EmailCampaign", null=True, blank=True, on_delete=models.PROTECT,
                                       related_name="+", editable=False,
                                       help_text="The send this email step feeds; opened on activation")

    class Meta:
        ordering = ["journey", "version", "position", "id"]
        constraints = [models.UniqueConstraint(fields=["journey", "version", "key"],
                                               name="automation_step_key_once")]

    def __str__(self) -> str:
        return f"{self.key} ({self.get_kind_display()})"


class JourneyEnrolment(models.Model):
    """One contact's way through one journey: where they are and when the runner takes them next."""

    # No index of their own: each leads an index below, and every move of a contact wrote one more entry
    # into each (bench journeys_cpu).
    journey = models.ForeignKey(Journey, on_delete=models.CASCADE, related_name="enrolments", db_index=False)
    contact = models.ForeignKey("crm.Contact", on_delete=models.CASCADE, related_name="+", db_index=False)
    step = models.ForeignKey(JourneyStep, null=True, blank=True, on_delete=models.PROTECT, related_name="enrolments")
    # How many steps the contact has gone through: the step log's key, so a step runs once per visit.
    visit = models.PositiveIntegerField(default=0)
    due_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=8, choices=EnrolmentStatus.choices, default=EnrolmentStatus.ACTIVE)
    # The journey's rule when the contact entered: the constraints below hold it in the database.
    reentry = models.CharField(max_length=16, choices=ReEntry.choices, editable=False)
    source = models.CharField(max_length=40, blank=True, help_text='What enrolled them, e.g. "segment:3", "api"')
    exit_reason = models.CharField(max_length=40, blank=True)
    # A tester's run through the builder's test mode: waits shortened, left out of the figures, and
    # outside the re-entry rule so it never keeps the contact from entering for real.
    is_test = models.BooleanField(default=False, editable=False)
    entered_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-entered_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["journey", "contact"],
                                    condition=Q(reentry=ReEntry.ONCE_EVER, is_test=False),
                                    name="automation_enrolment_once_ever"),
            models.UniqueConstraint(fields=["journey", "contact"],
                                    condition=Q(reentry=ReEntry.ONCE_AT_A_TIME, status__in=ENROLMENT_LIVE,
                                              is_test=False),
                                    name="automation_enrolment_once_at_a_time"),
        ]
        indexes = [
            # The runner's claim: due contact-steps in due order.
            models.Index(fields=["due_at"], condition=Q(status__in=ENROLMENT_LIVE), name="automation_enrolment_due"),
            models.Index(fields=["journey", "step", "status"], name="automation_enrolment_step"),
            models.Index(fields=["contact", "status"], name="automation_enrolment_contact"),
        ]

    def __str__(self) -> str:
        return f"{self.contact_id} in {self.journey_id} ({self.status})"


class JourneyStepRun(models.Model):
    """A step a contact went through, written in the transaction that applied it and moved them on:
    unique per (enrolment, visit), so the same step can never run twice for that contact."""

    # Neither has an index of its own: each leads an index below, and a contact-step wrote one more entry
    # into each (bench journeys_cpu).
    enrolment = models.ForeignKey(JourneyEnrolment, on_delete=models.CASCADE, related_name="runs", db_index=False)
    # No database foreign key (db_constraint=False): PostgreSQL checked it for every row at commit (a SELECT
    # ... FOR KEY SHARE each), a sixth of the runner's move-and-log statement (EXPLAIN, bench journeys_cpu).
    # The step is held by the enrolment's own key: a row names the step its enrolment was on or went
    # through in that transaction, a step with enrolments cannot be deleted (PROTECT), and Django's delete
    # collector removes a step's rows with it, the only way steps are deleted (replacing a draft's steps).
    step = models.ForeignKey(JourneyStep, on_delete=models.CASCADE, related_name="runs", db_index=False,
                             db_constraint=False)
    visit = models.PositiveIntegerField()
    outcome = models.CharField(max_length=20, help_text='e.g. "next", "other", "queued", "not emailable"')
    ran_at = models.DateTimeField()

    class Meta:
        ordering = ["enrolment", "visit"]
        constraints = [models.UniqueConstraint(fields=["enrolment", "visit"], name="automation_step_run_once")]
        indexes = [models.Index(fields=["step", "outcome"], name="automation_step_run_step")]

    def __str__(self) -> str:
        return f"{self.enrolment_id}#{self.visit} {self.step_id}: {self.outcome}"

    @property
    def note(self) -> str:
        """What the outcome means when it is not the whole story (a test run's shortcut)."""
        return OUTCOME_NOTES.get(self.outcome, "")


class JourneySegmentMember(models.Model):
    """Who was in an entry segment at the journey's last look: a contact found in the segment now and
    not here has joined it (and enters the journey); one here and no longer in it has left it."""

    journey = models.ForeignKey(Journey, on_delete=models.CASCADE, related_name="+")
    segment = models.ForeignKey("crm.Segment", on_delete=models.CASCADE, related_name="+")
    contact = models.ForeignKey("crm.Contact", on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["journey", "segment", "contact"],
                                               name="automation_segment_member_once")]

    def __str__(self) -> str:
        return f"{self.contact_id} in segment {self.segment_id} for journey {self.journey_id}"


class RunnerLoop(models.Model):
    """A `run_journeys --loop` process, as last seen: while one has been seen lately, the queue's runs
    leave the due steps to it. A row, not a cache key: without Redis each process has a cache of its
    own, and the database is what the worker and the loop both see."""

    name = models.CharField(max_length=200, unique=True, help_text="Its host and process id")
    seen_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.name} seen at {self.seen_at}"


class JourneyNotification(models.Model):
    """A notify step's digest to one person: the contacts one runner batch took through the step. Written
    in that batch's transaction, then sent by the worker at most once: a send whose worker died mid-way
    is marked outcome unknown, never sent again on a guess."""

    step = models.ForeignKey(JourneyStep, on_delete=models.CASCADE, related_name="notifications")
    # By email to a person, or posted to a Slack channel through that provider account (one of the two).
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE,
                             related_name="+", verbose_name="person notified")
    slack_account = models.ForeignKey("gateways.ProviderAccount", null=True, blank=True, on_delete=models.SET_NULL,
                                      related_name="+", verbose_name="Slack channel",
                                      help_text="The Slack incoming webhook the digest is posted to")
    contact_ids = models.JSONField(default=list, help_text="The contacts who reached the step in this batch")
    status = models.CharField(max_length=8, choices=NotificationStatus.choices, default=NotificationStatus.PENDING,
                              editable=False)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField()
    claimed_at = models.DateTimeField(null=True, blank=True, editable=False)
    sent_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "created_at"], name="automation_notification_due")]

    def __str__(self) -> str:
        to = f"user {self.user_id}" if self.user_id else f"Slack account {self.slack_account_id}"
        return f"{self.step_id} to {to}: {len(self.contact_ids)} contacts ({self.status})"


class Task(models.Model):
    """Something a person is to do about a contact (call them, send a quote), created by a journey's task
    step or by hand."""

    title = models.CharField(max_length=200)
    contact = models.ForeignKey("crm.Contact", on_delete=models.CASCADE, related_name="+")
    assignee = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+",
                                 help_text="The person who is to do it")
    due_on = models.DateField(null=True, blank=True, verbose_name="due date")
    done = models.BooleanField(default=False)
    done_at = models.DateTimeField(null=True, blank=True, editable=False)
    step = models.ForeignKey(JourneyStep, null=True, blank=True, on_delete=models.SET_NULL, related_name="tasks",
                             editable=False, help_text="The journey step that created it")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["done", "due_on", "id"]
        indexes = [models.Index(fields=["assignee", "done", "due_on"], name="automation_task_mine")]

    def __str__(self) -> str:
        return self.title
