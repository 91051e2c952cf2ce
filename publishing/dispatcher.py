"""The dispatcher: the database says what is due; workers claim jobs, post outside any transaction,
and record what happened. Any number of workers may run it at once.

A claim moves due jobs to "publishing" with a claim token and a lease. The lease must outlast a
provider call (PUBLISHING_LEASE_SECONDS, 120 s, against a 10 s provider timeout): a job still
"publishing" after it expired belonged to a worker that died mid-post, so its outcome is unknown and
it is reconciled, never simply posted again.
"""

import logging
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import timedelta

from django import db
from django.conf import settings
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from gateways.capabilities import ChannelPost, PublishedPost
from gateways.errors import GatewayError, OutcomeUnknown, ProviderRejected, RateLimited
from gateways.services import PostingSession, open_posting_session
from media.services import asset_public_url
from publishing import conf, gateway
from publishing.choices import DUE_JOB, JobStatus
from publishing.formatters import formatter_for
from publishing.models import JobEvent, PublishingJob
from publishing.services.jobs import (
    Posted,
    backoff_seconds,
    job_record_awaiting_manual,
    job_record_failure,
    job_record_needs_checking,
    job_record_published,
    jobs_record_published,
)

logger = logging.getLogger(__name__)
WEBSITE = "website"
POSTS_IN_A_ROW = 4


def claim_due(*, limit: int | None = None, now=None) -> tuple[str, list[int]]:
    """Take up to `limit` due jobs for this worker; no two workers ever get the same job.

    PostgreSQL skips rows another worker has locked; SQLite serialises writers, and the conditional
    UPDATE (status still due) makes a second claim of the same row a no-op on both.
    """
    now = now or timezone.now()
    token = str(uuid.uuid4())
    with transaction.atomic():
        due = PublishingJob.objects.filter(status__in=DUE_JOB, due_at__lte=now).order_by("due_at", "pk")
        if connection.features.has_select_for_update_skip_locked:
            due = due.select_for_update(skip_locked=True)
        sources = dict(due.values_list("pk", "status")[: limit or conf.claim_batch()])
        if not sources:
            return token, []
        PublishingJob.objects.filter(pk__in=sources, status__in=DUE_JOB).update(
            status=JobStatus.PUBLISHING, claim_token=token, attempts=F("attempts") + 1,
            lease_until=now + timedelta(seconds=conf.lease_seconds()), updated_at=now,
        )
        claimed = list(PublishingJob.objects.filter(claim_token=token).values_list("pk", flat=True))
        JobEvent.objects.bulk_create(
            JobEvent(job_id=pk, from_status=sources[pk], to_status=JobStatus.PUBLISHING, by_system="dispatcher",
                     note=f"claimed ({token[:8]})") for pk in claimed
        )
    return token, claimed


def _public_url(content) -> str:
    return f"{settings.PUBLIC_BASE_URL}{content.get_public_url()}"


def build_post(job: PublishingJob) -> ChannelPost:
    version, content = job.version, job.content
    formatter = formatter_for(version.kind)
    media_urls = [f"{settings.PUBLIC_BASE_URL}{asset_public_url(asset=asset)}" for asset in version.media.all()]
    text = formatter.render(version)
    return ChannelPost(
        idempotency_key=str(job.idempotency_key),
        text=text,
        title=version.title or content.title,
        body_markdown=text if formatter.markdown else "",
        link_url=version.cta_url,
        tags=list(version.hashtags),
        media_urls=media_urls,
        canonical_url=_public_url(content),
        extra={"description": content.summary[:250], "job_id": job.pk, "campaign_id": job.campaign_id,
               "channel": job.channel.slug},
    )


def reconcile(*, job: PublishingJob, token: str, post: ChannelPost, reason: str) -> PublishingJob | None:
    """The post may or may not exist. Retry only where the channel makes a retry safe; ask the channel
    where it can say; otherwise hand the job to a person rather than risk posting twice."""
    account_id = job.channel.provider_account_id
    if account_id and gateway.retry_is_safe(account_id=account_id):
        return job_record_failure(job_id=job.pk, token=token,
                                  message=f"{reason}; retrying with the same idempotency key")
    if account_id and gateway.can_lookup(account_id=account_id):
        try:
            found = gateway.lookup(account_id=account_id, post=post)
        except GatewayError as exc:
            return job_record_needs_checking(job_id=job.pk, token=token,
                                             message=f"{reason}; the look-up failed too: {exc}")
        if found is not None:
            return job_record_published(job_id=job.pk, token=token, external_id=found.external_id, url=found.url,
                                        raw=found.raw, by_system="reconciler")
        return job_record_failure(job_id=job.pk, token=token, message=f"{reason}; the channel has no such post")
    return job_record_needs_checking(job_id=job.pk, token=token,
                                     message=f"{reason}. Check the channel: mark the job published or retry it.")


def _claimed_jobs(ids: list[int], token: str) -> list[PublishingJob]:
    """The batch's jobs with everything a post needs, in two queries."""
    return list(PublishingJob.objects.select_related("channel", "version", "content", "campaign")
                .prefetch_related("version__media").filter(pk__in=ids, claim_token=token, status=JobStatus.PUBLISHING)
                .order_by("due_at", "pk"))


def post_claimed(job: PublishingJob, token: str) -> Posted | str:
    """Post one claimed job. A confirmed post comes back as Posted for the caller to record with its
    batch right away; every other outcome is recorded here and its new status returned."""
    post = build_post(job)
    account_id = job.channel.provider_account_id
    if job.channel.kind == WEBSITE:
        return Posted(job=job, external_id=job.content.slug, url=_public_url(job.content))
    if not account_id:
        return _status(job_record_awaiting_manual(job_id=job.pk, token=token, draft=post.text))
    try:
        published = gateway.publish(account_id=account_id, post=post)
    except Exception as exc:  # noqa: BLE001 - every failure is an outcome to record
        return _outcome(job, token, post, exc)
    return _outcome(job, token, post, published)


def _outcome(job: PublishingJob, token: str, post: ChannelPost, result: PublishedPost | Exception) -> Posted | str:
    """What came of one post: a confirmed one as Posted (recorded later with its batch), any other
    outcome recorded now and the job's new status returned."""
    if isinstance(result, RateLimited):
        wait = result.retry_after if result.retry_after is not None else backoff_seconds(job.retries + 1)
        recorded = job_record_failure(job_id=job.pk, token=token, message=str(result), details=result.details,
                                      retry_after=wait, counts=False)
    elif isinstance(result, ProviderRejected):
        recorded = job_record_failure(job_id=job.pk, token=token, message=str(result), details=result.details,
                                      permanent=True)
    elif isinstance(result, OutcomeUnknown):
        recorded = reconcile(job=job, token=token, post=post, reason=f"Outcome unknown: {result}")
    elif isinstance(result, GatewayError):
        recorded = job_record_failure(job_id=job.pk, token=token, message=str(result),
                                      details={"advice": result.advice})
    elif isinstance(result, Exception):
        # After a call we cannot vouch for, the post may exist.
        logger.error("Publishing job %s failed unexpectedly", job.pk, exc_info=result)
        recorded = reconcile(job=job, token=token, post=post, reason=f"Unexpected error: {type(result).__name__}")
    elif result.status == JobStatus.AWAITING_MANUAL:
        recorded = job_record_awaiting_manual(job_id=job.pk, token=token, draft=result.draft or post.text)
    else:
        return Posted(job=job, external_id=result.external_id, url=result.url, raw=result.raw or {})
    return _status(recorded)


def post_claimed_together(jobs: list[PublishingJob], posts: list[ChannelPost], token: str,
                          session: PostingSession | None = None) -> list[Posted | str]:
    """Post claimed jobs of one channel account one after the other, through one breaker check
    (each still takes its own rate-limit token); outcomes as post_claimed's, in order."""
    try:
        results = gateway.publish_each(account_id=jobs[0].channel.provider_account_id, posts=posts,
                                       session=session)
    except Exception as exc:  # noqa: BLE001 - the account could not be used at all: every job met it
        results = [exc] * len(jobs)
    return [_recorded(_outcome, job, token, post, result) for job, post, result in zip(jobs, posts, results,
                                                                                       strict=True)]


def _status(job: PublishingJob | None) -> str:
    return job.status if job is not None else "lost"


def publish_claimed(job_id: int, token: str) -> str:
    """Post one claimed job and record the outcome; returns the job's new status."""
    jobs = _claimed_jobs([job_id], token)
    if not jobs:
        return "lost"
    outcome = post_claimed(jobs[0], token)
    if isinstance(outcome, Posted):
        return _status(next(iter(jobs_record_published(token=token, posted=[outcome])), None))
    return outcome


def recover_expired(*, now=None) -> int:
    """Reconcile jobs whose worker died mid-post (the lease ran out)."""
    now = now or timezone.now()
    recovered = 0
    expired = PublishingJob.objects.filter(status=JobStatus.PUBLISHING, lease_until__lt=now)
    for pk in expired.values_list("pk", flat=True):
        token = str(uuid.uuid4())
        taken = PublishingJob.objects.filter(pk=pk, status=JobStatus.PUBLISHING, lease_until__lt=now).update(
            claim_token=token, lease_until=now + timedelta(seconds=conf.lease_seconds()))
        if not taken:
            continue
        job = PublishingJob.objects.select_related("channel", "version", "content").get(pk=pk)
        reconcile(job=job, token=token, post=build_post(job), reason="The worker stopped during the post")
        recovered += 1
    return recovered


def _recorded(record, job: PublishingJob, *args) -> Posted | str:
    try:
        return record(job, *args)
    except Exception:  # noqa: BLE001 - recording failed; the lease will bring the job back
        logger.exception("Could not record the outcome of publishing job %s", job.pk)
        return "error"


def _post_group(jobs: list[PublishingJob], token: str, session: PostingSession | None) -> list[Posted | str]:
    if _grouped(jobs[0]):
        try:
            posts = [build_post(job) for job in jobs]
        except Exception:  # noqa: BLE001 - nothing was sent: each job goes on its own, the faulty one fails alone
            posts = None
        if posts is not None:
            return post_claimed_together(jobs, posts, token, session)
    return [_recorded(post_claimed, job, token) for job in jobs]


def _post_group_in_thread(jobs: list[PublishingJob], token: str,
                          session: PostingSession | None) -> list[Posted | str]:
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
    """Post a claimed batch, then record its confirmed posts together; returns each job's status."""
    jobs = _claimed_jobs(ids, token)
    groups = _by_account(jobs)
    if session is not None:
        session.read_accounts(group[0].channel.provider_account_id for group in groups if _grouped(group[0]))
    outcomes = [outcome for group in (pool.map(_post_group_in_thread, groups, [token] * len(groups),
                                               [session] * len(groups)) if pool else
                                      (_post_group(group, token, session) for group in groups))
                for outcome in group]
    statuses = ["lost"] * (len(ids) - len(jobs)) + [o for o in outcomes if isinstance(o, str)]
    posted = [o for o in outcomes if isinstance(o, Posted)]
    try:
        recorded = jobs_record_published(token=token, posted=posted)
    except Exception:  # noqa: BLE001 - the lease brings the jobs back to the reconciler, never to a re-post
        logger.exception("Could not record %s published jobs", len(posted))
        return statuses + ["error"] * len(posted)
    return statuses + [job.status for job in recorded] + ["lost"] * (len(posted) - len(recorded))


@contextmanager
def _run():
    """What a dispatcher run keeps from one round to the next: its posting threads, and the
    session that writes the accounts' health once a second."""
    with _posting_threads(conf.dispatch_threads()) as pool, open_posting_session() as session:
        yield pool, session


def _dispatch_round(pool: ThreadPoolExecutor | None, session: PostingSession, limit: int | None) -> dict[str, int]:
    counts = {"recovered": recover_expired()}
    while True:
        token, ids = claim_due(limit=limit or conf.claim_batch())
        if not ids:
            return counts
        for status in publish_batch(token, ids, pool, session):
            counts[status] = counts.get(status, 0) + 1


def dispatch_once(*, limit: int | None = None) -> dict[str, int]:
    """Recover expired leases, then claim and publish due jobs until none is due. Posts run on a few
    threads (network waits overlap; the channel accounts' shared token buckets keep the pace); one
    failing job never stops the others."""
    with _run() as (pool, session):
        return _dispatch_round(pool, session, limit)


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
    with _run() as (pool, session):
        while True:
            for key, value in _dispatch_round(pool, session, None).items():
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
