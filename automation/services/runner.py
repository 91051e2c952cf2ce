"""The runner: takes due contact-steps from the database and applies them, exactly once.

- Workers claim a batch of due enrolments (ordered by due time, on a partial index) with SELECT … FOR
  UPDATE SKIP LOCKED, so two workers never hold the same contact; on SQLite the claiming transaction
  holds the write lock, which serialises workers instead.
- A batch is applied step by step, set-based (one tag INSERT for everyone on an "add tag" step...), on
  through the steps due at once after it (a chain), and every effect, the step log rows
  (unique per enrolment and visit) and the move to the step they stop on commit in that one
  transaction: a worker killed at any point leaves each contact either before the batch's steps or
  after them, never half-way, so nothing is applied twice or skipped.
- An email step's effect is the delivery row, queued in the same transaction: the email sender then
  sends it at most once (its own lease and "outcome unknown" discipline), and the delivery's unique
  (send, contact, occurrence) key, the occurrence being the enrolment, stops a repeat within one entry
  while a re-entry is sent again.
"""

from __future__ import annotations

import json
import time
import zlib
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import connection, transaction
from django.db.models import DateTimeField, Exists, ExpressionWrapper, F, OuterRef
from django.db.models.expressions import RawSQL
from django.urls import reverse
from django.utils import timezone

from aicmo_site.audit import audit_operation
from automation.choices import (
    DELIVER_AT_BEST_HOUR,
    ENROLMENT_LIVE,
    TEST_SENT_NOW,
    EnrolmentStatus,
    JourneyStatus,
    StepKind,
    TriggerKind,
)
from automation.models import Journey, JourneyEnrolment, JourneyStep, JourneyStepRun
from automation.selectors import EXIT_STEP
from automation.services import actions
from automation.services.person_tasks import tasks_create_for_step
from automation.services.waits import WAIT_MODES, wait_ends, wait_seconds
from crm.models import Contact, EngagementEvent, Segment
from crm.selectors import contacts_emailable, segment_queryset
from crm.services import contacts_tag, contacts_transition, contacts_untag

BATCH = 1000
# A contact due again at once after a step goes on to the next step in the same batch. Every effect is
# written in the batch's transaction (an email or a webhook only queued, sent after commit), so chaining
# keeps each step once. Not after a wait for an event: the step's "still awaiting?" test reads the
# status as claimed, which a chain to a second such wait would read stale.
UNCHAINED = frozenset({StepKind.WAIT_EVENT})
# At most this many steps per contact in one batch: a loop of steps without a wait cannot hold a worker.
CHAIN = 20
# In test mode every wait lasts at most this long (seconds), so a tester sees the whole way in a minute.
TEST_WAIT = 3


@dataclass
class RunReport:
    steps: int = 0
    batches: int = 0
    more: bool = False
    outcomes: dict = field(default_factory=lambda: defaultdict(int))


@dataclass(frozen=True)
class _Move:
    """Where one contact goes after a step: `to` (a step key; None: the journey ends), how, and when
    the next step is due (`until`, or `delay` seconds from now). `stay`: they stay on this step,
    awaiting an event until `delay` has passed."""

    outcome: str
    to: str | None
    delay: int = 0
    until: datetime | None = None
    stay: bool = False


def _claim(*, size: int, now) -> list[tuple]:
    active = list(Journey.objects.filter(status=JourneyStatus.ACTIVE).values_list("pk", flat=True))
    if not active:
        return []
    enrolments = JourneyEnrolment.objects.filter(status__in=ENROLMENT_LIVE, due_at__lte=now)
    postgresql = connection.vendor == "postgresql"
    # The due enrolments are taken by walking the due-time index in order. With statistics from before
    # a burst came due (ANALYZE not run since: the moment they are parked, or a server without
    # autovacuum), PostgreSQL expects a handful due and reads them by a bitmap (of the due-time or the
    # journey index) and a sort instead: a bitmap reads every index entry of the rows already moved on,
    # until a VACUUM, where the ordered walk marks them dead the first time it passes. A batch of 5,000
    # with a million moved on: 160-390 ms by bitmap, 15 ms walking (bench/NOTES.md, Journeys). The
    # journey filter is kept off its index ("+ 0") and bitmaps off for this statement only.
    enrolments = (enrolments.annotate(journey_unindexed=F("journey_id") + 0).filter(journey_unindexed__in=active)
                  if postgresql else enrolments.filter(journey_id__in=active))
    picked = (enrolments.select_for_update(skip_locked=True).order_by("due_at")
              .values_list("pk", "contact_id", "step_id", "visit", "is_test")[:size])
    if not postgresql:
        return list(picked)
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_bitmapscan = off")
        try:
            return list(picked)
        finally:
            cursor.execute("SET LOCAL enable_bitmapscan TO DEFAULT")


def journeys_run_batch(*, size: int = BATCH, now=None, report: RunReport | None = None) -> int:
    """Claim and apply one batch of due contact-steps; returns how many contacts it took (0: none due).

    A contact due again at once after a step goes on to the next step in the same batch: one claim, one
    move and one commit for the whole way to the next wait or the exit, instead of one each per step."""
    report = report or RunReport()
    with transaction.atomic():
        now = now or timezone.now()
        claimed = _claim(size=size, now=now)
        if not claimed:
            return 0
        visits = {row[0]: row[3] for row in claimed}
        steps: dict[int, JourneyStep] = {}
        keys: dict[tuple, int] = {}
        runs, moves = defaultdict(list), defaultdict(list)
        rows_due = claimed
        for taken in range(CHAIN):
            by_step: dict[int, list[tuple]] = defaultdict(list)
            for row in rows_due:
                by_step[row[2]].append(row)
            _steps_load(steps, keys, by_step)
            rows_due = []
            for step_id, rows in by_step.items():
                step = steps[step_id]
                # The contacts of one step mostly share their move (all "next", or one date for all):
                # worked out once per distinct move, not once per contact.
                alike: dict[tuple, list[tuple]] = defaultdict(list)
                for row, move in zip(rows, _apply(step, rows, now), strict=True):
                    alike[(move, row[4])].append(row)
                for (move, is_test), moved in alike.items():
                    ids = [row[0] for row in moved]
                    runs[(step_id, move.outcome, taken)] += ids
                    report.outcomes[move.outcome] += len(moved)
                    target = (step_id if move.stay else keys[(step.journey_id, step.version, move.to)] if move.to
                              else None)
                    due = move.until or now + timedelta(seconds=move.delay)
                    if is_test:
                        due = min(due, now + timedelta(seconds=TEST_WAIT))
                    status = (EnrolmentStatus.AWAITING if move.stay else EnrolmentStatus.WAITING if due > now
                              else EnrolmentStatus.ACTIVE)
                    if (status == EnrolmentStatus.ACTIVE and target is not None and step.kind not in UNCHAINED
                            and taken + 1 < CHAIN):
                        rows_due += [(row[0], row[1], target, row[3] + 1, is_test) for row in moved]
                    else:
                        moves[(target, max(due, now), status, taken + 1)] += ids
                report.steps += len(rows)
            if not rows_due:
                break
        _commit(runs, moves, visits, now)
    report.batches += 1
    return len(claimed)


def _steps_load(steps: dict, keys: dict, by_step: dict) -> None:
    """Every step of the journeys the batch's contacts are on, by id and by key, read once per batch:
    a chained contact's next step is one of them."""
    missing = set(by_step) - steps.keys()
    if not missing:
        return
    journeys = JourneyStep.objects.filter(pk__in=missing).values("journey_id")
    for step in JourneyStep.objects.filter(journey_id__in=journeys).select_related("journey", "email_campaign"):
        steps[step.pk] = step
        keys[(step.journey_id, step.version, step.key)] = step.pk


def _commit(runs: dict, moves: dict, visits: dict, now) -> None:
    """The step log rows and the moves. `runs`: (step, outcome, steps taken before it in the batch) ->
    enrolments; `moves`: (target step, due time, status, steps taken) -> enrolments; `visits`: each
    enrolment's visit when claimed. On PostgreSQL one statement for the whole batch, otherwise one
    INSERT per step and outcome and one UPDATE per target step, due time and status (a wait until a
    weekday: one per time zone)."""
    if connection.vendor == "postgresql":
        _commit_in_one(runs, moves, visits, now)
        return
    for (step_id, outcome, taken), ids in runs.items():
        _log(step_id, outcome, ids, taken, now)
    for (target, due, status, taken), ids in moves.items():
        if target is None:
            JourneyEnrolment.objects.filter(pk__in=ids).update(
                status=EnrolmentStatus.DONE, visit=F("visit") + taken, due_at=None, finished_at=now,
                exit_reason=EXIT_STEP)
        else:
            JourneyEnrolment.objects.filter(pk__in=ids).update(step_id=target, visit=F("visit") + taken, due_at=due,
                                                               status=status)


def _commit_in_one(runs: dict, moves: dict, visits: dict, now) -> None:
    """Every claimed enrolment moved by one UPDATE … FROM unnest(arrays), and its log rows inserted from
    arrays, in one statement. Arrays, not IN lists or VALUES rows: psycopg binds parameters on the
    client, and a statement of 1,000 placeholders cost more to build there than the UPDATE cost
    PostgreSQL (cProfile, bench journeys). The due times go once each with an index per row: dumping
    a timestamp per row was most of the binding's time."""
    ids, targets, due_of, statuses, moved_visits = [], [], [], [], []
    dues: dict = {}
    for (target, due, status, taken), moved in moves.items():
        due_index = dues.setdefault(due, len(dues) + 1)
        count = len(moved)
        ids += moved
        targets += [target] * count
        due_of += [None if target is None else due_index] * count
        statuses += [EnrolmentStatus.DONE.value if target is None else str(status)] * count
        moved_visits += [visits[enrolment_id] + taken for enrolment_id in moved]
    run_ids, run_steps, run_visits, outcomes = [], [], [], []
    for (step_id, outcome, taken), ran in runs.items():
        count = len(ran)
        run_ids += ran
        run_steps += [step_id] * count
        run_visits += [visits[enrolment_id] + taken for enrolment_id in ran]
        outcomes += [outcome] * count
    enrolments = connection.ops.quote_name(JourneyEnrolment._meta.db_table)
    log = connection.ops.quote_name(JourneyStepRun._meta.db_table)
    with connection.cursor() as cursor:
        # Quoted table names; every value is a parameter.
        cursor.execute(
            f"WITH moved AS (UPDATE {enrolments} e SET step_id = COALESCE(move.target, e.step_id), "  # noqa: S608
            "visit = move.visit, due_at = (%s::timestamptz[])[move.due], status = move.status, "
            "finished_at = CASE WHEN move.target IS NULL THEN %s ELSE e.finished_at END, "
            "exit_reason = CASE WHEN move.target IS NULL THEN %s ELSE e.exit_reason END "
            "FROM unnest(%s::bigint[], %s::bigint[], %s::int[], %s::text[], %s::int[]) "
            "AS move (id, target, due, status, visit) WHERE e.id = move.id RETURNING e.id) "
            f"INSERT INTO {log} (enrolment_id, step_id, visit, outcome, ran_at) "
            "SELECT ran.id, ran.step, ran.visit, ran.outcome, %s "
            "FROM unnest(%s::bigint[], %s::bigint[], %s::int[], %s::text[]) AS ran (id, step, visit, outcome)",
            [list(dues), now, EXIT_STEP, ids, targets, due_of, statuses, moved_visits,
             now, run_ids, run_steps, run_visits, outcomes])


def _log(step_id: int, outcome: str, enrolment_ids: list[int], taken: int, now) -> None:
    """The log rows of one step and outcome, in one INSERT … SELECT from the claimed enrolments (their
    visit as claimed, plus the steps taken before this one in the batch): Django's bulk_create cost
    about 0.2 ms a row in Python, most of the runner's time (bench journeys)."""
    picked = JourneyEnrolment.objects.filter(pk__in=enrolment_ids).order_by().annotate(
        run_enrolment=F("pk"), run_visit=F("visit") + taken).values("run_enrolment", "run_visit")
    select_sql, params = picked.query.sql_with_params()
    table = connection.ops.quote_name(JourneyStepRun._meta.db_table)
    with connection.cursor() as cursor:
        # A quoted table name and Django's own compiled subquery; every value is a parameter.
        cursor.execute(
            f"INSERT INTO {table} (enrolment_id, step_id, visit, outcome, ran_at) "  # noqa: S608
            f"SELECT claimed.run_enrolment, %s, claimed.run_visit, %s, %s FROM ({select_sql}) claimed",
            [step_id, outcome, now, *params])


def journeys_event_waits_release(*, contact_ids: list[int] | None = None, size: int = BATCH, now=None) -> int:
    """Move on through `next` everyone awaiting an event that has happened since they arrived (the
    arrival is their due time less the step's timeout). Exactly once against the runner taking the
    same contact on timeout: both claim with SKIP LOCKED and re-check status and step, so whichever
    commits first moves them and the other no longer finds them (and the step log is unique per
    visit). Returns how many were moved."""
    released = 0
    steps = JourneyStep.objects.filter(kind=StepKind.WAIT_EVENT, journey__status=JourneyStatus.ACTIVE)
    for step in steps:
        timeout = timedelta(seconds=wait_seconds(step.config))
        next_pk = JourneyStep.objects.filter(journey_id=step.journey_id, version=step.version,
                                             key=step.next).values_list("pk", flat=True).get()
        waiting = JourneyEnrolment.objects.filter(step=step, status=EnrolmentStatus.AWAITING)
        if contact_ids is not None:
            waiting = waiting.filter(contact_id__in=contact_ids)
        while True:
            with transaction.atomic():
                moment = now or timezone.now()
                events = EngagementEvent.objects.filter(
                    contact_id=OuterRef("contact_id"), kind=step.config["event"], occurred_at__lte=moment,
                    occurred_at__gte=ExpressionWrapper(OuterRef("due_at") - timeout, output_field=DateTimeField()))
                if step.config.get("journey_email"):
                    events = events.filter(campaign_id__in=JourneyStep.objects.filter(
                        journey_id=step.journey_id, email_campaign__isnull=False).values("email_campaign__campaign_id"))
                visits = dict(waiting.filter(Exists(events)).select_for_update(skip_locked=True).order_by()
                              .values_list("pk", "visit")[:size])
                if not visits:
                    break
                ids = list(visits)
                _commit({(step.pk, "event", 0): ids}, {(next_pk, moment, EnrolmentStatus.ACTIVE, 1): ids}, visits,
                        moment)
            released += len(visits)
    return released


def journeys_run_due(*, size: int = BATCH, max_batches: int | None = None, seconds: float | None = None) -> RunReport:
    """Apply due contact-steps until none is due, or `max_batches` were applied, or `seconds` have passed
    (`report.more`: a limit stopped it, so some may still be due)."""
    report = RunReport()
    deadline = None if seconds is None else time.monotonic() + seconds
    while True:
        if not journeys_run_batch(size=size, report=report):
            return report
        if (max_batches is not None and report.batches >= max_batches) or (
                deadline is not None and time.monotonic() >= deadline):
            report.more = True
            return report


def _apply(step: JourneyStep, rows: list[tuple], now) -> list[_Move]:
    """The step's effect for every claimed contact on it, in as few statements as the kind allows."""
    config, contact_ids = step.config, [row[1] for row in rows]
    kind = step.kind
    if kind == StepKind.WAIT:
        if not set(WAIT_MODES) & set(config):
            return [_Move("waited", step.next, wait_seconds(config))] * len(rows)
        ends = wait_ends(config, contact_ids, now)
        return [_Move("waited", step.next, until=ends[contact_id]) if ends[contact_id]
                else _Move("no date", step.next) for contact_id in contact_ids]
    if kind == StepKind.WAIT_EVENT:
        # Arriving: they stay, awaiting the event until the timeout (journey_event_waits_release moves
        # them on when it happens); taken again here, still awaiting, the wait timed out.
        awaiting = set(JourneyEnrolment.objects.filter(pk__in=[row[0] for row in rows],
                                                       status=EnrolmentStatus.AWAITING).values_list("pk", flat=True))
        return [_Move("timed out", step.other) if row[0] in awaiting
                else _Move("awaiting", None, wait_seconds(config), stay=True) for row in rows]
    if kind == StepKind.EXIT:
        return [_Move("exit", None)] * len(rows)
    if kind == StepKind.ADD_TAG:
        contacts_tag(contacts=_batch_contacts(contact_ids), tag_names=[config["tag"]],
                     audit_details=_journey_step(step))
    elif kind == StepKind.REMOVE_TAG:
        contacts_untag(contacts=_batch_contacts(contact_ids), tag_names=[config["tag"]],
                       audit_details=_journey_step(step))
    elif kind == StepKind.SET_LIFECYCLE:
        contacts_transition(contacts=_batch_contacts(contact_ids), to=config["stage"],
                            reason=f"Journey {step.journey.name}", audit_details=_journey_step(step))
    elif kind == StepKind.SET_FIELD:
        _set_field(contact_ids, config["field"], config.get("value", ""), now)
        audit_operation(model=Contact, action=f"Set {config['field']}", count=len(contact_ids),
                        details={"value": config.get("value", ""), **_journey_step(step)})
    elif kind == StepKind.SEND_EMAIL:
        tests = [row for row in rows if row[4]]
        real = [row for row in rows if not row[4]]
        moves = dict(zip([row[1] for row in real], _send_email(step, real), strict=True)) if real else {}
        for row in tests:
            moves[row[1]] = _send_test_email(step, row)
        return [moves[contact_id] for contact_id in contact_ids]
    elif kind == StepKind.ADD_TO_LIST:
        actions.contacts_list_add(step, contact_ids)
    elif kind == StepKind.REMOVE_FROM_LIST:
        actions.contacts_list_remove(step, contact_ids)
    elif kind == StepKind.NOTIFY:
        actions.notification_queue(step, contact_ids, now)
    elif kind == StepKind.CREATE_TASK:
        tasks_create_for_step(step=step, contact_ids=contact_ids, now=now)
    elif kind == StepKind.CALL_WEBHOOK:
        return [_Move("queued" if actions.webhooks_queue(step, rows) else "no subscription", step.next)] * len(rows)
    elif kind == StepKind.ENROL:
        entered = actions.contacts_enrol(step, contact_ids, now)
        return [_Move("enrolled" if contact_id in entered else "not enrolled", step.next)
                for contact_id in contact_ids]
    elif kind == StepKind.CONDITION:
        holding = _condition_holds(step, rows)
        return [_Move("yes", step.next) if contact_id in holding else _Move("no", step.other)
                for contact_id in contact_ids]
    elif kind == StepKind.RANDOM_SPLIT:
        # Stable per contact and visit: a batch applied again after a rollback splits the same way.
        return [_Move("first", step.next) if zlib.crc32(f"{row[0]}:{row[3]}".encode()) % 100 < config["percent"]
                else _Move("second", step.other) for row in rows]
    return [_Move("next", step.next)] * len(rows)


def _batch_contacts(contact_ids: list[int]):
    """A batch's contacts to act on. On PostgreSQL their ids go as one array: planning an IN list of
    5,000 ids (an estimate per id) cost more than the tag step's own INSERT (EXPLAIN, bench journeys_cpu)."""
    if connection.vendor == "postgresql":
        return Contact.objects.filter(pk__in=RawSQL("SELECT unnest(%s::bigint[])", [contact_ids]))
    return contact_ids


def _journey_step(step: JourneyStep) -> dict:
    """What the audit entry of a step's batch names: the journey and the step."""
    return {"journey_id": step.journey_id, "journey": step.journey.name, "step": step.key,
            "link": reverse("automation:journey-detail", args=[step.journey_id])}


def _set_field(contact_ids: list[int], name: str, value, now) -> None:
    """On PostgreSQL one UPDATE for the batch (jsonb's ||); SQLite's JSON paths cannot name every key a
    marketer may type (a double quote), so there each contact's fields are merged in Python."""
    if connection.vendor == "postgresql":
        _batch_contacts(contact_ids).update(updated_at=now, custom_fields=RawSQL(
            "CASE WHEN jsonb_typeof(custom_fields) = 'object' THEN custom_fields ELSE '{}'::jsonb END "
            "|| jsonb_build_object(%s::text, %s::jsonb)", [name, json.dumps(value)]))
        return
    contacts = list(Contact.objects.filter(pk__in=contact_ids).only("pk", "custom_fields"))
    for contact in contacts:
        contact.custom_fields = {**(contact.custom_fields or {}), name: value}
        contact.updated_at = now
    Contact.objects.bulk_update(contacts, ["custom_fields", "updated_at"])


def _send_email(step: JourneyStep, rows: list[tuple]) -> list[_Move]:
    """One delivery per enrolment: a contact who re-enters the journey is sent the email again, and a
    batch replayed after a rollback (or a loop back to the step within one entry) adds nothing."""
    from publishing.email.services import email_deliveries_add
    from publishing.email.services.send_times import occurrences_at_best_hours

    enrolment_ids = [row[0] for row in rows]
    email_deliveries_add(email_campaign=step.email_campaign, occurrences=JourneyEnrolment.objects.filter(
        pk__in=enrolment_ids).order_by().annotate(audience_id=F("contact_id"), occurrence=F("pk"))
        .values("audience_id", "occurrence"))
    if step.config.get("deliver") == DELIVER_AT_BEST_HOUR:
        # In this transaction, as the deliveries themselves: the sender cannot take one before its hour is set.
        occurrences_at_best_hours(email_campaign=step.email_campaign, occurrences=enrolment_ids,
                                  segment_ids=_entry_segment_ids(step.journey))
    contact_ids = [row[1] for row in rows]
    emailable = set(contacts_emailable(Contact.objects.filter(pk__in=contact_ids)).values_list("pk", flat=True))
    return [_Move("queued" if contact_id in emailable else "not emailable", step.next) for contact_id in contact_ids]


def _entry_segment_ids(journey: Journey) -> list[int]:
    """The segments contacts join to enter: whose habits stand in for a newcomer's with no opens of their own."""
    return [trigger["segment_id"] for trigger in journey.entry_triggers or ()
            if trigger.get("kind") == TriggerKind.SEGMENT_ENTERED and trigger.get("segment_id")]


def _send_test_email(step: JourneyStep, row: tuple) -> _Move:
    """A test run's email goes to the test contact through a send of its own, opened and closed for
    this one delivery: the journey's send keeps its one delivery per contact for the real entry."""
    from publishing.email.services import email_campaign_close, email_campaign_open, email_deliveries_add
    from publishing.services import campaign_create

    enrolment_id, contact_id, _step, visit, _test = row
    campaign = campaign_create(by=None, name=f"Test run {enrolment_id}.{visit} {step.key}: {step.journey.name}"[:120],
                               description="A test run of a journey, sent to the test contact only.")
    email_campaign = email_campaign_open(campaign=campaign, template=step.email_campaign.template)
    added = email_deliveries_add(email_campaign=email_campaign, contact_ids=[contact_id])
    email_campaign_close(email_campaign=email_campaign)
    if not added:
        return _Move("not emailable", step.next)
    return _Move(TEST_SENT_NOW if step.config.get("deliver") == DELIVER_AT_BEST_HOUR else "queued (test)", step.next)


def _condition_holds(step: JourneyStep, rows: list[tuple]) -> set[int]:
    from publishing.email.models import EmailDelivery

    config, contact_ids = step.config, [row[1] for row in rows]
    contacts = Contact.objects.filter(pk__in=contact_ids)
    if "tag" in config:
        contacts = contacts.filter(tags__name=config["tag"])
    elif "lifecycle" in config:
        contacts = contacts.filter(lifecycle_status=config["lifecycle"])
    elif "field" in config:
        contacts = contacts.filter(**{f"custom_fields__{config['field']}": config["equals"]})
    elif "segment_id" in config:
        segment = Segment.objects.filter(pk=config["segment_id"]).first()
        contacts = segment_queryset(segment).filter(pk__in=contact_ids) if segment else contacts.none()
    else:
        # "The journey's last email": any email step of this journey the contact was sent.
        sends = JourneyStep.objects.filter(journey_id=step.journey_id, kind=StepKind.SEND_EMAIL,
                                           email_campaign__isnull=False).values("email_campaign__campaign_id")
        mark = "first_clicked_at" if config.get("clicked_last_email") else "first_opened_at"
        # Sent in this entry (its enrolment is the delivery's occurrence), not an earlier one; 0 is a
        # delivery queued before deliveries had occurrences.
        return set(EmailDelivery.objects.filter(contact_id__in=contact_ids, campaign_id__in=sends,
                                                occurrence__in=[0, *(row[0] for row in rows)],
                                                **{f"{mark}__isnull": False}).values_list("contact_id", flat=True))
    return set(contacts.values_list("pk", flat=True))
