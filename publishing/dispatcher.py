"""The dispatcher: the database says what is due; dispatchers claim jobs, post outside any transaction,
and record what happened to each job the moment it is known. Any number of them may run at once.

A job's life in a dispatcher, each step its own commit:
- claimed: "publishing" with the dispatcher's claim token and a lease. A live dispatcher's heartbeat
  keeps the leases of all its claims running (every quarter lease), however long a batch takes;
- marked sending (sending_since) once the channel account has admitted the post, right before its
  request: from then on the post may exist;
- its outcome: published, a retry, failed, or reconciled when the answer never came.

A lease that ran out means its dispatcher stopped beating. Recovery puts a job that was never marked
sending back in the queue, silently: nothing was sent. Only a job marked sending is reconciled: retried
with the same idempotency key where the channel drops repeats, looked up where the channel can say,
otherwise handed to a person as "needs checking". A job whose claim was taken back is never sent: the
sending mark is conditional on the claim.
"""

import logging
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import timedelta

from django import db
from django.db import connection, transaction
from django.utils import timezone

from gateways.capabilities import ChannelPost, PublishedPost
from gateways.errors import CallRefused, GatewayError, OutcomeUnknown, ProviderRejected, RateLimited
from gateways.services import PostingSession, open_posting_session
from publishing import conf, gateway
from publishing.choices import DUE_JOB, JobStatus
from publishing.models import JobEvent, PublishingJob
from publishing.posts import build_post, public_url
from publishing.reconcile import (
    SENT_ATTEMPTS,
    Heartbeat,
    carried_attempts,
    earlier_attempt_outcome,
    reconcile,
    recover_expired,
)
from publishing.services.jobs import (
    backoff_seconds,
    job_mark_sending,
    job_record_awaiting_manual,
    job_record_failure,
    job_record_published,
)

logger = logging.getLogger(__name__)
WEBSITE = "website"
POSTS_IN_A_ROW = 4
# When a refusal gives no time (another process is making the breaker's trial call): soon, the
# trial's answer decides.
REFUSED_WAIT_SECONDS = 5.0


def claim_due(*, limit: int | None = None, now=None, token: str | None = None) -> tuple[str, list[int]]:
    """Take up to `limit` due jobs for this dispatcher, urgent ones first; no two dispatchers ever get
    the same job. `token`: the dispatcher's run's own, which its heartbeat keeps alive.

    PostgreSQL skips rows another dispatcher has locked; SQLite serialises writers, and the conditional
    UPDATE (status still due) makes a second claim of the same row a no-op on both.
    """
    now = now or timezone.now()
    token = token or str(uuid.uuid4())
    with transaction.atomic():
        due = (PublishingJob.objects.filter(status__in=DUE_JOB, due_at__lte=now)
               .order_by("-urgent", "due_at", "pk"))
        if connection.features.has_select_for_update_skip_locked:
            due = due.select_for_update(skip_locked=True)
        sources = dict(due.values_list("pk", "status")[: limit or conf.claim_batch()])
        if not sources:
            return token, []
        PublishingJob.objects.filter(pk__in=sources, status__in=DUE_JOB).update(
            status=JobStatus.PUBLISHING, claim_token=token, sending_since=None,
            lease_until=now + timedelta(seconds=conf.lease_seconds()), updated_at=now,
        )
        claimed = list(PublishingJob.objects.filter(pk__in=sources, claim_token=token,
                                                    status=JobStatus.PUBLISHING).values_list("pk", flat=True))
        JobEvent.objects.bulk_create(
            JobEvent(job_id=pk, from_status=sources[pk], to_status=JobStatus.PUBLISHING, by_system="dispatcher",
                     note=f"claimed ({token[:8]})") for pk in claimed
        )
    return token, claimed


def _claimed_jobs(ids: list[int], token: str) -> list[PublishingJob]:
    """The batch's jobs with everything a post needs, in two queries."""
    return list(PublishingJob.objects.select_related("channel", "version", "content", "campaign")
                .prefetch_related("version__media").filter(pk__in=ids, claim_token=token, status=JobStatus.PUBLISHING)
                .order_by("-urgent", "due_at", "pk"))


def post_claimed(job: PublishingJob, token: str, session: PostingSession | None = None) -> str:
    """Post one claimed job and record its outcome; returns the job's new status."""
    if job.channel.kind == WEBSITE:
        return _status(job_record_published(job_id=job.pk, token=token, external_id=job.content.slug,
                                            url=public_url(job.content), job=job))
    try:
        post = build_post(job)
    except Exception as exc:  # noqa: BLE001 - nothing was sent: this job fails alone, the others go out
        logger.exception("The post of publishing job %s could not be prepared", job.pk)
        return _status(job_record_failure(job_id=job.pk, token=token, job=job,
                                          message=f"The post could not be prepared: {type(exc).__name__}: {exc}"))
    if not job.channel.provider_account_id:
        return _status(job_record_awaiting_manual(job_id=job.pk, token=token, draft=post.text, job=job))
    return _post_row([job], [post], token, session)[0]


def _outcome(job: PublishingJob, token: str, post: ChannelPost, result: PublishedPost | Exception,
             sent: bool) -> str:
    """Record what came of one post, now; returns the job's new status. `sent`: the job was marked
    sending, so its request may have started."""
    if isinstance(result, CallRefused | RateLimited):
        # Refused before any request (open breaker, our rate limit, a row held back after a failure)
        # or asked by the channel to wait: no attempt spent, the job comes back when it may.
        wait = result.retry_after if result.retry_after is not None else (
            REFUSED_WAIT_SECONDS if isinstance(result, CallRefused) else backoff_seconds(job.retries + 1))
        recorded = job_record_failure(job_id=job.pk, token=token, message=str(result),
                                      details={**result.details, **carried_attempts(job)},
                                      retry_after=wait, counts=False, job=job)
    elif isinstance(result, ProviderRejected):
        recorded = job_record_failure(job_id=job.pk, token=token, message=str(result),
                                      details={**result.details, **carried_attempts(job)}, permanent=True, job=job)
    elif isinstance(result, OutcomeUnknown):
        recorded = reconcile(job=job, token=token, post=post, reason=f"Outcome unknown: {result}")
    elif isinstance(result, GatewayError):
        recorded = job_record_failure(job_id=job.pk, token=token, message=str(result),
                                      details={"advice": result.advice, **carried_attempts(job)}, job=job)
    elif isinstance(result, Exception):
        logger.error("Publishing job %s failed unexpectedly", job.pk, exc_info=result)
        if sent:  # after a request we cannot vouch for, the post may exist
            recorded = reconcile(job=job, token=token, post=post, reason=f"Unexpected error: {type(result).__name__}")
        else:
            recorded = job_record_failure(job_id=job.pk, token=token, job=job, details=carried_attempts(job),
                                          message=f"Unexpected error before posting: {type(result).__name__}")
    elif result.status == JobStatus.AWAITING_MANUAL:
        recorded = job_record_awaiting_manual(job_id=job.pk, token=token, draft=result.draft or post.text, job=job)
    else:
        recorded = job_record_published(job_id=job.pk, token=token, external_id=result.external_id, url=result.url,
                                        raw=result.raw or {}, job=job)
    return _status(recorded)


def _post_row(jobs: list[PublishingJob], posts: list[ChannelPost], token: str,
              session: PostingSession | None) -> list[str]:
    """Post claimed jobs of one channel account one after the other, through one breaker check (each
    still takes its own rate-limit token), each marked sending right before its request and its
    outcome recorded before the next one goes; their new statuses, in order."""
    sent: set[int] = set()

    def before_send(index: int) -> bool:
        try:
            marked = job_mark_sending(job_id=jobs[index].pk, token=token)
        except Exception:  # noqa: BLE001 - unmarked, it must not go: nothing is sent and the job is retried
            logger.exception("Could not mark publishing job %s as sending", jobs[index].pk)
            return False
        if marked:  # else the claim was taken back: another dispatcher has the job now
            sent.add(index)
            # The copy the outcome is recorded from says what the mark did (retries' details, look-ups).
            jobs[index].attempts += 1
            jobs[index].sending_since = timezone.now()
        return marked

    results = gateway.publish_in_turn(account_id=jobs[0].channel.provider_account_id, posts=posts,
                                      session=session, before_send=before_send)
    statuses, stopped = [], None
    for index, (job, post) in enumerate(zip(jobs, posts, strict=True)):
        if stopped is None:
            try:
                result = next(results)
            except Exception as exc:  # noqa: BLE001 - the account could not be used: this job and the rest met it
                stopped = exc
        statuses.append(_recorded(_outcome, job, token, post, stopped or result, index in sent))
    return statuses


def _status(job: PublishingJob | None) -> str:
    return job.status if job is not None else "lost"


def publish_claimed(job_id: int, token: str) -> str:
    """Post one claimed job and record the outcome; returns the job's new status."""
    jobs = _claimed_jobs([job_id], token)
    if not jobs:
        return "lost"
    return _settled_by_earlier_attempt(jobs[0], token) or post_claimed(jobs[0], token)


def _recorded(record, job: PublishingJob, *args) -> str:
    try:
        return record(job, *args)
    except Exception:  # noqa: BLE001 - recording failed; the lease will bring the job back
        logger.exception("Could not record the outcome of publishing job %s", job.pk)
        return "error"


def _post_group(jobs: list[PublishingJob], token: str, session: PostingSession | None) -> list[str]:
    settled = [_settled_by_earlier_attempt(job, token) for job in jobs]
    statuses = [status for status in settled if status is not None]
    jobs = [job for job, status in zip(jobs, settled, strict=True) if status is None]
    return statuses + (_post_unsettled(jobs, token, session) if jobs else [])


def _settled_by_earlier_attempt(job: PublishingJob, token: str) -> str | None:
    """The job's status when an earlier attempt's post was found (or could not be looked for), None when
    it is to be posted. Only a retry after an unknown outcome asks the channel."""
    if not (job.error_details or {}).get(SENT_ATTEMPTS):
        return None
    try:
        outcome = earlier_attempt_outcome(job, token)
    except Exception:  # noqa: BLE001 - the lease brings the job back; it is not posted blind
        logger.exception("Could not look for the post of an earlier attempt of publishing job %s", job.pk)
        return "error"
    return None if outcome is False else _status(outcome)


def _post_unsettled(jobs: list[PublishingJob], token: str, session: PostingSession | None) -> list[str]:
    if _grouped(jobs[0]):
        try:
            posts = [build_post(job) for job in jobs]
        except Exception:  # noqa: BLE001 - nothing was sent: each job goes on its own, the faulty one fails alone
            posts = None
        if posts is not None:
            return _post_row(jobs, posts, token, session)
    return [_recorded(post_claimed, job, token, session) for job in jobs]


def _post_group_in_thread(jobs: list[PublishingJob], token: str, session: PostingSession | None) -> list[str]:
    db.reset_queries()  # the thread's own connection: see dispatch_loop
    outcomes = _post_group(jobs, token, session)
    if "error" in outcomes:
        db.close_old_connections()  # a broken connection is replaced, not kept for the rest of the run
    return outcomes


def _grouped(job: PublishingJob) -> bool:
    return bool(job.channel.provider_account_id) and job.channel.kind != WEBSITE


def _by_account(jobs: list[PublishingJob]) -> list[list[PublishingJob]]:
    """The batch's jobs of each channel account together, in due order, at most POSTS_IN_A_ROW at a
    time (an account's posts in a row wait for each other's answers: with a provider answering in
    300 ms, a longer row would make its last post late; several rows of one account run side by
    side); the others one by one."""
    groups: dict[object, list[PublishingJob]] = {}
    for job in jobs:
        key = job.channel.provider_account_id if _grouped(job) else ("alone", job.pk)
        groups.setdefault(key, []).append(job)
    return [group[start:start + POSTS_IN_A_ROW] for group in groups.values()
            for start in range(0, len(group), POSTS_IN_A_ROW)]


@contextmanager
def _posting_threads(threads: int):
    """A pool whose threads keep their database connections for the whole run and close them when
    it ends: opening a PostgreSQL connection for every post cost about a sixth of a dispatcher's time."""
    if threads <= 1:
        yield None
        return
    opened = []

    def keep_connections():
        for alias in db.connections:
            connection_of_thread = db.connections[alias]
            connection_of_thread.inc_thread_sharing()  # so the run's end may close it from its own thread
            opened.append(connection_of_thread)

    pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="publish", initializer=keep_connections)
    try:
        yield pool
    finally:
        pool.shutdown(wait=True)
        for connection_of_thread in opened:
            connection_of_thread.close()
            connection_of_thread.dec_thread_sharing()


def publish_batch(token: str, ids: list[int], pool: ThreadPoolExecutor | None = None,
                  session: PostingSession | None = None) -> list[str]:
    """Post a claimed batch, each job's outcome recorded as it comes; returns each job's status."""
    jobs = _claimed_jobs(ids, token)
    groups = _by_account(jobs)
    if session is not None:
        session.read_accounts(group[0].channel.provider_account_id for group in groups if _grouped(group[0]))
    outcomes = [outcome for group in (pool.map(_post_group_in_thread, groups, [token] * len(groups),
                                               [session] * len(groups)) if pool else
                                      (_post_group(group, token, session) for group in groups))
                for outcome in group]
    return ["lost"] * (len(ids) - len(jobs)) + outcomes


@contextmanager
def _run():
    """What a dispatcher run keeps from one round to the next: its claim token and the heartbeat
    that keeps its claims alive, its posting threads, and the session that writes the accounts'
    health once a second."""
    token = str(uuid.uuid4())
    with (Heartbeat(token), _posting_threads(conf.dispatch_threads()) as pool,
          open_posting_session() as session):
        yield token, pool, session


def _dispatch_round(token: str, pool: ThreadPoolExecutor | None, session: PostingSession,
                    limit: int | None) -> dict[str, int]:
    counts = {"recovered": recover_expired()}
    while True:
        _, ids = claim_due(limit=limit or conf.claim_batch(), token=token)
        if not ids:
            return counts
        for status in publish_batch(token, ids, pool, session):
            counts[status] = counts.get(status, 0) + 1


def dispatch_once(*, limit: int | None = None) -> dict[str, int]:
    """Recover expired leases, then claim and publish due jobs until none is due. Posts run on a few
    threads (network waits overlap; the channel accounts' shared token buckets keep the pace); one
    failing job never stops the others."""
    with _run() as (token, pool, session):
        return _dispatch_round(token, pool, session, limit)


def dispatch_loop(*, seconds: float | None = None, poll: float | None = None,
                  relieved: Callable[[], bool] | None = None) -> dict[str, int]:
    """Poll for due jobs for `seconds` (django-q2's scheduler ticks every 30 s; jobs must start within
    about a second of their time).

    With `relieved`, the loop goes on past `seconds` until it says the next run was started, and for
    a short hand-over after (PUBLISHING_DISPATCH_HANDOFF_SECONDS), so that no moment is left without
    a dispatcher; never beyond twice `seconds`, in case no next run ever comes."""
    seconds = conf.dispatch_loop_seconds() if seconds is None else seconds
    poll = conf.dispatch_poll_seconds() if poll is None else poll
    started = time.monotonic()
    deadline = started + seconds
    totals: dict[str, int] = {}
    with _run() as (token, pool, session):
        while True:
            # With DEBUG on every connection logs its last 9,000 statements, which Django forgets only when a
            # request starts: a loop serves none, and `publish_due --loop` runs for as long as it is left.
            db.reset_queries()
            for key, value in _dispatch_round(token, pool, session, None).items():
                totals[key] = totals.get(key, 0) + value
            if time.monotonic() + poll >= deadline:
                if relieved is None or deadline >= started + 2 * seconds:
                    return totals
                if relieved():
                    relieved = None
                    deadline = min(time.monotonic() + conf.dispatch_handoff_seconds(), started + 2 * seconds)
                else:
                    deadline = min(time.monotonic() + poll, started + 2 * seconds)
            time.sleep(poll)
