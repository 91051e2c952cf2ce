"""The claims of dispatchers that stop, and posts whose outcome is unknown.

A live dispatcher's Heartbeat keeps its claims' leases running. Recovery takes back only claims
whose lease ran out: a job never marked sending goes back to the queue as it was (nothing was sent);
a job marked sending may have been posted and is reconciled by what its channel offers.
"""

import logging
import threading
import uuid
from dataclasses import replace
from datetime import datetime, timedelta

from django import db
from django.utils import timezone

from gateways.capabilities import ChannelPost
from gateways.errors import CallRefused, GatewayError
from publishing import conf, gateway
from publishing.choices import JobStatus
from publishing.models import PublishingJob
from publishing.posts import build_post
from publishing.services.jobs import (
    job_record_failure,
    job_record_needs_checking,
    job_record_published,
    job_requeue_unsent,
    jobs_keep_claimed,
)

logger = logging.getLogger(__name__)
# In a job's error details: every attempt whose request may have reached the channel (when it began,
# what it said), carried from one outcome to the next, so a look-up after a later attempt still finds
# the post an earlier one made.
SENT_ATTEMPTS = "sent_attempts"


def reconcile(*, job: PublishingJob, token: str, post: ChannelPost, reason: str) -> PublishingJob | None:
    """The request may have reached the channel and no answer says what came of it. Never "failed":
    retry with the same idempotency key where the channel drops repeats, ask the channel where it can
    say, otherwise hand the job to a person rather than risk posting twice."""
    account_id = job.channel.provider_account_id
    attempts = sent_attempts(job, post)
    carried = {SENT_ATTEMPTS: attempts}
    if account_id and gateway.retry_is_safe(account_id=account_id):
        if job.retries + 1 > conf.max_retries():
            return job_record_needs_checking(
                job_id=job.pk, token=token,
                message=f"{reason}. Sent {job.attempts} times with the same idempotency key and never answered "
                        f"in time: {job.channel} may have it. Check the channel, then mark the job published or "
                        "retry it.",
                details={"idempotency_key": str(job.idempotency_key), "attempt": job.attempts, **carried})
        return job_record_failure(job_id=job.pk, token=token,
                                  message=f"{reason}; sending again with the same idempotency key, which "
                                          f"{job.channel} drops if it has the post",
                                  details={"idempotency_key": str(job.idempotency_key), **carried})
    if account_id and gateway.can_lookup(account_id=account_id):
        try:
            found = gateway.lookup(account_id=account_id, post=_any_attempt(post, attempts))
        except CallRefused as exc:
            # Our own breaker refused the look-up before asking (the timeouts that made this outcome
            # unknown may have opened it): the channel can still say, once it may be called. The job
            # waits without spending a retry; the sent attempts it carries make it look again
            # before any new post (earlier_attempt_outcome).
            return job_record_failure(
                job_id=job.pk, token=token, counts=False, details=carried,
                retry_after=exc.retry_after if exc.retry_after is not None else conf.backoff_base_seconds(),
                message=f"{reason}; {job.channel} is held back ({exc}), so whether the post exists is asked once "
                        "it may be called, before anything is sent again")
        except GatewayError as exc:
            return job_record_needs_checking(
                job_id=job.pk, token=token, details=carried,
                message=f"{reason}; asking {job.channel} whether the post exists failed too ({exc}). Check the "
                        "channel, then mark the job published or retry it.")
        if found is not None:
            return job_record_published(job_id=job.pk, token=token, external_id=found.external_id, url=found.url,
                                        raw=found.raw, by_system="reconciler")
        return job_record_failure(job_id=job.pk, token=token, details=carried,
                                  message=f"{reason}; {job.channel} has no such post, so it is posted again")
    return job_record_needs_checking(
        job_id=job.pk, token=token, details=carried,
        message=f"{reason}. The request may have reached {job.channel}, which offers no way to ask. Check the "
                "channel, then mark the job published or retry it.")


def earlier_attempt_outcome(job: PublishingJob, token: str) -> PublishingJob | None | bool:
    """Before a retry that follows an unknown outcome is posted, on a channel that can say: look for
    the post any earlier attempt made (a slow provider may have made it after the look-up that let
    this retry go, or the text was edited since). The job's recorded outcome when that settles it
    (published when found; held back, not counted as a retry, when the channel cannot be asked);
    False when nothing was found and the job may go."""
    attempts = (job.error_details or {}).get(SENT_ATTEMPTS)
    account_id = job.channel.provider_account_id
    if not attempts or not account_id or not gateway.can_lookup(account_id=account_id):
        return False
    try:
        found = gateway.lookup(account_id=account_id, post=_any_attempt(build_post(job), attempts))
    except GatewayError as exc:
        return job_record_failure(
            job_id=job.pk, token=token, counts=False, retry_after=conf.backoff_base_seconds(), job=job,
            details={SENT_ATTEMPTS: attempts},
            message=f"An earlier attempt may have reached {job.channel}, and asking it whether the post exists "
                    f"failed ({exc}); not posted again until it can say")
    if found is None:
        return False
    return job_record_published(job_id=job.pk, token=token, external_id=found.external_id, url=found.url,
                                raw=found.raw, by_system="reconciler", job=job)


def sent_attempts(job: PublishingJob, post: ChannelPost) -> list[dict]:
    """The attempts of this job whose request may have reached the channel: those its details carry
    from earlier outcomes, and this one."""
    attempts = list((job.error_details or {}).get(SENT_ATTEMPTS) or [])
    since = _sent_since(job)
    if since is not None:
        attempts.append({"at": since.isoformat(), "text": post.text})
    return attempts


def carried_attempts(job: PublishingJob) -> dict:
    """What an outcome that is not a look-up keeps of the job's earlier sent attempts (a retry after
    a refusal or an error must still find, later, a post an earlier attempt made)."""
    attempts = (job.error_details or {}).get(SENT_ATTEMPTS)
    return {SENT_ATTEMPTS: attempts} if attempts else {}


def _any_attempt(post: ChannelPost, attempts: list[dict]) -> ChannelPost:
    """The post to look for: made since the first attempt began, with any attempt's text."""
    if not attempts:
        return post
    return replace(post, sent_after=min(datetime.fromisoformat(attempt["at"]) for attempt in attempts),
                   earlier_texts=sorted({attempt["text"] for attempt in attempts} - {post.text}))


def _sent_since(job: PublishingJob):
    """When this attempt's request may have begun (the dispatcher's copy of the job predates its mark)."""
    return job.sending_since or PublishingJob.objects.filter(pk=job.pk).values_list("sending_since", flat=True)[0]


def recover_expired(*, now=None) -> int:
    """Take back the claims of dispatchers that stopped beating: a job never marked sending goes back
    to the queue as it was; a job marked sending may have been posted, and is reconciled."""
    now = now or timezone.now()
    recovered = 0
    expired = PublishingJob.objects.filter(status=JobStatus.PUBLISHING, lease_until__lt=now)
    for pk, sending_since in expired.values_list("pk", "sending_since"):
        if sending_since is None:
            recovered += job_requeue_unsent(job_id=pk, expired_before=now)
            continue
        token = str(uuid.uuid4())
        taken = PublishingJob.objects.filter(pk=pk, status=JobStatus.PUBLISHING, lease_until__lt=now,
                                             sending_since__isnull=False).update(
            claim_token=token, lease_until=now + timedelta(seconds=conf.lease_seconds()))
        if not taken:
            continue
        job = PublishingJob.objects.select_related("channel", "version", "content").get(pk=pk)
        reconcile(job=job, token=token, post=build_post(job),
                  reason=f"The dispatcher stopped while posting (request started {sending_since:%H:%M:%S})")
        recovered += 1
    return recovered


class Heartbeat:
    """Keeps a dispatcher's claims alive while it runs: a thread that moves their leases on every
    quarter lease. When the process dies the beats stop, and other dispatchers take the claims back
    once a whole lease has passed without one."""

    def __init__(self, token: str):
        self.token = token
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._beat, name="publish-heartbeat", daemon=True)

    def __enter__(self) -> "Heartbeat":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stopped.set()
        self._thread.join()

    def _beat(self) -> None:
        try:
            while not self._stopped.wait(conf.lease_seconds() / 4):
                db.reset_queries()  # the thread's own connection, for the dispatcher's whole run: see dispatch_loop
                try:
                    jobs_keep_claimed(token=self.token)
                except Exception:  # noqa: BLE001 - a missed beat is made up by the next, well within the lease
                    logger.exception("Could not extend the leases of this dispatcher's publishing jobs")
        finally:
            db.connection.close()
