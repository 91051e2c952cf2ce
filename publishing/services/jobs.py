"""Publishing jobs: the one transition function, people's actions (retry, cancel, mark published) and
the outcomes the dispatcher records."""

from datetime import date, datetime, timedelta

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from aicmo_site.errors import ConflictError, DomainError
from aicmo_site.transitions import Action, BulkChange, Change, Workflow
from publishing import conf
from publishing.choices import (
    HOLDABLE_JOB,
    JOB_TRANSITIONS,
    RESCHEDULABLE_JOB,
    TERMINAL_JOB,
    ContentStatus,
    JobStatus,
)
from publishing.models import Content, JobEvent, PublishingJob, WeatherHold
from publishing.services.campaign_workflow import campaign_complete_if_done
from publishing.services.content import content_transition
from publishing.webhook_events import jobs_event_emit


def _recorded(change: Change) -> None:
    """The job's own history (who, or which part of the system) and the webhook subscribers hear of it."""
    JobEvent.objects.create(job=change.obj, from_status=change.source, to_status=change.target, by=change.by,
                            by_system=change.extra.get("by_system", ""), note=change.note)
    jobs_event_emit([change.obj])


def _recorded_many(change: BulkChange) -> None:
    JobEvent.objects.bulk_create(
        JobEvent(job_id=pk, from_status=change.source, to_status=change.target, by=change.by, note=change.note)
        for pk in change.ids)


_CHANGE = "publishing.change_publishingjob"
JOB_WORKFLOW = Workflow(
    model=PublishingJob, transitions=JOB_TRANSITIONS, terminal=TERMINAL_JOB, noun="job", audit=_recorded,
    audit_model=JobEvent, bulk_audit=_recorded_many,
    actions=[
        Action("retry", "Retry", to=JobStatus.SCHEDULED, permission=_CHANGE,
               sources={JobStatus.FAILED, JobStatus.NEEDS_CHECKING}),
        Action("mark_published", "Mark published", to=JobStatus.PUBLISHED, permission=_CHANGE,
               sources={JobStatus.AWAITING_MANUAL, JobStatus.NEEDS_CHECKING}),
        Action("cancel", "Cancel", to=JobStatus.CANCELED, permission=_CHANGE),
        Action("hold_for_weather", "Hold for the weather", to=JobStatus.WAITING_FOR_WEATHER, permission=_CHANGE,
               sources=set(HOLDABLE_JOB)),
        Action("lift_weather_hold", "Stop waiting for the weather", to=JobStatus.SCHEDULED, permission=_CHANGE,
               sources={JobStatus.WAITING_FOR_WEATHER}),
    ],
)


def job_transition(*, job: PublishingJob, to: str, by=None, by_system: str = "", note: str = "",
                   **fields) -> PublishingJob:
    """The one way a person or a recovery moves a job; the callers hold the row (read for update)."""
    return JOB_WORKFLOW.transition(job, to, by=by, note=note, locked=True, fields=fields, by_system=by_system)


def jobs_bulk_transition(*, queryset, sources, to: str, by=None, note: str = "", **fields) -> int:
    """Move every job of `queryset` still in one of `sources` to `to`, set-based, with one event each."""
    return JOB_WORKFLOW.bulk_transition(queryset, to, sources=sources, by=by, note=note, fields=fields)


def backoff_seconds(retries: int) -> float:
    """1, 2, 4, 8 … minutes after the 1st, 2nd, 3rd, 4th failure, capped (an hour by default)."""
    return min(conf.backoff_base_seconds() * 2 ** max(retries - 1, 0), conf.backoff_cap_seconds())


def _locked(job: PublishingJob) -> PublishingJob:
    return PublishingJob.objects.select_for_update().get(pk=job.pk)


def dispatcher_wake() -> None:
    """Publish what is due now rather than at the dispatcher's next scheduled run."""
    from django_q.tasks import async_task

    transaction.on_commit(lambda: async_task("publishing.tasks.dispatch_due", group="publishing"))


# A job given a fresh start by a person: its earlier attempts and claim are forgotten.
RETRY_RESET = {"next_retry_at": None, "retries": 0, "error_message": "", "claim_token": "", "lease_until": None,
               "sending_since": None}


@transaction.atomic
def job_retry(*, job: PublishingJob, by=None, note: str = "") -> PublishingJob:
    """A post that was held for the weather waits for it again (its condition may have passed since);
    once its deadline is gone it is refused: a person holds it again with a new one."""
    job = _locked(job)
    if job.status not in (JobStatus.FAILED, JobStatus.NEEDS_CHECKING):
        raise ConflictError("Only a failed job or one that needs checking can be retried.", code="not_retryable")
    now = timezone.now()
    hold = WeatherHold.objects.filter(job=job).select_related("city").first()
    if hold is None:
        return job_transition(job=job, to=JobStatus.SCHEDULED, by=by, note=note or "Retry asked by a person",
                              due_at=now, **RETRY_RESET)
    if hold.give_up_at <= now:
        raise ConflictError(f"Its wait for {hold} gave up at {timezone.localtime(hold.give_up_at):%d %b %H:%M}: "
                            f"hold it for the weather again with a new deadline.", code="weather_deadline_passed",
                            extra={"give_up_at": hold.give_up_at})
    WeatherHold.objects.filter(pk=hold.pk).update(released_at=None)
    return job_transition(job=job, to=JobStatus.WAITING_FOR_WEATHER, by=by,
                          note=note or f"Retry asked by a person: waits again for {hold}", due_at=now, **RETRY_RESET)


@transaction.atomic
def job_cancel(*, job: PublishingJob, by=None, note: str = "") -> PublishingJob:
    job = _locked(job)
    if job.status == JobStatus.PUBLISHING:
        raise ConflictError("The job is being published right now; cancel it once it ends.", code="in_flight")
    job = job_transition(job=job, to=JobStatus.CANCELED, by=by, note=note, claim_token="", lease_until=None)
    _campaign_settle(job.campaign_id)
    return job


@transaction.atomic
def job_mark_published(*, job: PublishingJob, by=None, url: str, external_id: str = "",
                       note: str = "") -> PublishingJob:
    """A person posted it by hand (manual channels) or found it on the channel (needs checking)."""
    try:
        URLValidator()(url)
    except ValidationError:
        raise DomainError("Give the address of the post.", code="url_required", extra={"field": "url"})
    job = _locked(job)
    job = job_transition(job=job, to=JobStatus.PUBLISHED, by=by, note=note or "Marked published by a person",
                         external_url=url, external_id=external_id or job.external_id,
                         published_at=timezone.now(), claim_token="", lease_until=None,
                         sending_since=None)
    _content_published(job)
    _campaign_settle(job.campaign_id)
    return job


@transaction.atomic
def job_reschedule(*, job: PublishingJob, day: date, by=None, note: str = "") -> PublishingJob:
    """Move a post to another day at the same time of day (in the team's time zone). Only a job that
    has not started publishing moves: once a dispatcher holds it, the post may already exist. The
    status stays; the move is recorded as an event of the job with who asked."""
    job = _locked(job)
    if job.status not in RESCHEDULABLE_JOB:
        raise ConflictError(f"A {JobStatus(job.status).label.lower()} post cannot be moved.", code="not_movable",
                            extra={"status": job.status})
    tz = timezone.get_current_timezone()
    before = timezone.localtime(job.scheduled_at, tz)
    when = datetime.combine(day, before.time(), tzinfo=tz)
    if when == before:
        return job
    if when < timezone.now():
        raise DomainError("Choose a day still to come: a post moved into the past would go out at once.",
                          code="in_the_past", extra={"field": "day"})
    job.scheduled_at = when
    # A job waiting on a retry keeps its retry time only if that is still later than the new time.
    job.due_at = max(when, job.next_retry_at) if job.next_retry_at else when
    job.save(update_fields=["scheduled_at", "due_at", "updated_at"])
    JobEvent.objects.create(job=job, from_status=job.status, to_status=job.status, by=by,
                            note=note or f"Moved from {before:%a %d %b %Y %H:%M} to {when:%a %d %b %Y %H:%M}")
    return job


# ---- outcomes recorded by the dispatcher ---------------------------------------------------------


def job_mark_sending(*, job_id: int, token: str) -> bool:
    """Commit, on its own, that the job's request may start now: from here on the post may exist, and
    only a job so marked can ever be reconciled as an unknown outcome. False when this dispatcher no
    longer holds the job (its claim was taken back): it must not be sent."""
    return bool(PublishingJob.objects.filter(pk=job_id, claim_token=token, status=JobStatus.PUBLISHING).update(
        sending_since=timezone.now(), attempts=F("attempts") + 1, updated_at=timezone.now()))


def jobs_keep_claimed(*, token: str) -> int:
    """The live dispatcher's heartbeat: its claims' leases start again from now. Recovery takes back
    only claims whose lease ran out, that is whose dispatcher stopped beating."""
    now = timezone.now()
    return PublishingJob.objects.filter(claim_token=token, status=JobStatus.PUBLISHING).update(
        lease_until=now + timedelta(seconds=conf.lease_seconds()))


@transaction.atomic
def job_requeue_unsent(*, job_id: int, expired_before) -> bool:
    """Put back in the queue a claim whose dispatcher stopped before the job's request began: nothing
    was sent, so nothing is to be checked; it keeps its place (due time) and its retries."""
    job = (PublishingJob.objects.select_for_update()
           .filter(pk=job_id, status=JobStatus.PUBLISHING, lease_until__lt=expired_before, sending_since=None)
           .first())
    if job is None:
        return False
    job_transition(job=job, to=JobStatus.SCHEDULED, by_system="dispatcher",
                   note="Back in the queue: its dispatcher stopped before posting it", claim_token="",
                   lease_until=None)
    return True


def _claimed(job_id: int, token: str, job: PublishingJob | None) -> PublishingJob | None:
    """The job this dispatcher holds: its own copy when it has one (saves reading it again), else read;
    whether the claim still holds is decided by the conditional update in `_move_claimed`."""
    if job is not None:
        return job
    return PublishingJob.objects.select_related("content", "channel").filter(pk=job_id, claim_token=token).first()


def _move_claimed(job: PublishingJob, token: str, to: str, *, note: str, by_system: str = "dispatcher",
                  **fields) -> PublishingJob | None:
    """job_transition for a job in a dispatcher's hands, in one conditional UPDATE instead of a locking
    read and a save: it moves only while this claim holds (so a claim taken back meanwhile is never
    overwritten), writes only the fields the outcome sets, and records the event. None when the claim
    was taken back. The workflow's table and audit hook still decide and record the move; only its lock
    is replaced by the claim, on the dispatcher's hot path."""
    JOB_WORKFLOW.check(JobStatus.PUBLISHING, to)
    fields = {"claim_token": "", "lease_until": None, "sending_since": None, **fields, "updated_at": timezone.now()}
    if not PublishingJob.objects.filter(pk=job.pk, claim_token=token, status=JobStatus.PUBLISHING).update(
            status=to, **fields):
        return None
    job.status = to
    for name, value in fields.items():
        setattr(job, name, value)
    JOB_WORKFLOW.audit(Change(obj=job, source=JobStatus.PUBLISHING, target=to, note=note,
                              extra={"by_system": by_system}))
    return job


def _content_published(job: PublishingJob) -> None:
    publishable = (ContentStatus.APPROVED, ContentStatus.SCHEDULED)
    # The dispatcher's copy answers for content already published (no query on its hot path); otherwise
    # the row is read again under lock, as the content's other jobs may be ending at the same moment.
    if job.content.status not in publishable:
        return
    content = Content.objects.select_for_update().get(pk=job.content_id)
    if content.status in publishable:
        content_transition(content=content, to=ContentStatus.PUBLISHED, action="published",
                           note=f"First published on {job.channel}", locked=True)


def _campaign_settle(campaign_id: int) -> None:
    campaign_complete_if_done(campaign_id=campaign_id)


@transaction.atomic
def job_record_published(*, job_id: int, token: str, external_id: str, url: str, raw: dict | None = None,
                         by_system: str = "dispatcher", job: PublishingJob | None = None) -> PublishingJob | None:
    """`job`: the dispatcher's own copy of the claimed job, if it has one."""
    fields = {"external_id": external_id, "external_url": url, "published_at": timezone.now(), "error_message": "",
              "error_details": {"response": raw or {}}}
    held = _claimed(job_id, token, job)
    moved = held and _move_claimed(held, token, JobStatus.PUBLISHED, note="Published", by_system=by_system, **fields)
    if not moved:
        # The lease expired and the job was set aside for checking; the post did happen, so say so.
        held = PublishingJob.objects.select_for_update().get(pk=job_id)
        if held.status != JobStatus.NEEDS_CHECKING:
            return None
        moved = job_transition(job=held, to=JobStatus.PUBLISHED, by_system=by_system, note="Published",
                               claim_token="", lease_until=None, sending_since=None, **fields)
    _content_published(moved)
    _campaign_settle(moved.campaign_id)
    return moved


@transaction.atomic
def job_record_awaiting_manual(*, job_id: int, token: str, draft: str,
                               job: PublishingJob | None = None) -> PublishingJob | None:
    held = _claimed(job_id, token, job)
    return held and _move_claimed(held, token, JobStatus.AWAITING_MANUAL, draft=draft,
                                  note="Ready to paste: a person publishes it and reports the address")


@transaction.atomic
def job_record_failure(*, job_id: int, token: str, message: str, details: dict | None = None,
                       permanent: bool = False, retry_after: float | None = None,
                       counts: bool = True, job: PublishingJob | None = None) -> PublishingJob | None:
    """A call that surely did not post: retry later with backoff, or fail for good.

    `retry_after` (a rate limit) sets the next time and, with counts=False, does not use up a retry.
    """
    held = _claimed(job_id, token, job)
    if held is None:
        return None
    retries = held.retries + (1 if counts else 0)
    details = {**(details or {}), "attempt": held.attempts}
    if permanent or retries > conf.max_retries():
        moved = _move_claimed(held, token, JobStatus.FAILED, note=message, retries=retries, error_message=message,
                              error_details=details, next_retry_at=None)
        if moved is not None:
            _campaign_settle(moved.campaign_id)
        return moved
    wait = retry_after if retry_after is not None else backoff_seconds(retries)
    when = timezone.now() + timedelta(seconds=wait)
    return _move_claimed(held, token, JobStatus.SCHEDULED, note=f"{message} (retry at {when:%H:%M:%S})",
                         retries=retries, error_message=message, error_details=details, due_at=when,
                         next_retry_at=when)


@transaction.atomic
def job_record_needs_checking(*, job_id: int, token: str, message: str,
                              details: dict | None = None) -> PublishingJob | None:
    """The outcome cannot be known and the channel offers no safe way to find out: a person decides."""
    held = _claimed(job_id, token, None)
    return held and _move_claimed(held, token, JobStatus.NEEDS_CHECKING, by_system="reconciler", note=message,
                                  error_message=message, error_details=details or {})
