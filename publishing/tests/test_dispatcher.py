import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from django import db
from django.core.management import call_command
from django.db import DatabaseError
from django.db.backends.signals import connection_created
from django.utils import timezone
from werkzeug import Response

from gateways.models import BreakerState, ProviderHealth
from gateways.testing.slack import CHANNEL, SlackWorkspace
from publishing import dispatcher
from publishing.choices import JobStatus
from publishing.formatters import formatter_for
from publishing.models import PublishingJob
from publishing.reconcile import Heartbeat
from publishing.services import backoff_seconds, job_mark_published
from publishing.services.jobs import job_mark_sending, jobs_keep_claimed
from publishing.tests.channels import channel_on
from publishing.tests.factories import ChannelFactory, JobFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def quick_retries(settings):
    settings.PUBLISHING_BACKOFF_BASE_SECONDS = 0


def answers(*responses):
    """A handler answering each request with the next response, the last one forever."""
    queue = list(responses)

    def handler(request):
        return queue.pop(0) if len(queue) > 1 else queue[0]

    return handler


def test_backoff_doubles_from_one_minute_and_stops_at_an_hour(settings):
    settings.PUBLISHING_BACKOFF_BASE_SECONDS = 60
    assert [backoff_seconds(n) for n in (1, 2, 3, 4, 7, 8)] == [60, 120, 240, 480, 3600, 3600]


def test_due_job_is_posted_once_and_recorded(httpserver):
    httpserver.expect_request("/slack", method="POST").respond_with_data("ok")
    job = JobFactory(channel=channel_on(httpserver, "slack"))
    counts = dispatcher.dispatch_once()
    job.refresh_from_db()
    assert counts == {"recovered": 0, "published": 1}
    assert (job.status, job.attempts, job.claim_token) == (JobStatus.PUBLISHED, 1, "")
    assert len(httpserver.log) == 1
    assert json.loads(httpserver.log[0][0].data)["text"].startswith("Launch notes")
    assert list(job.events.values_list("to_status", flat=True)) == ["published", "publishing"]


def test_job_not_yet_due_is_left_alone(httpserver):
    JobFactory(channel=channel_on(httpserver, "slack"), scheduled_at=timezone.now() + timedelta(minutes=5),
               due_at=timezone.now() + timedelta(minutes=5))
    assert dispatcher.dispatch_once() == {"recovered": 0}
    assert httpserver.log == []


def test_provider_failing_twice_then_succeeding_is_published_on_the_third_attempt(httpserver):
    httpserver.expect_request("/slack").respond_with_handler(answers(
        Response("rollup_error", status=500), Response("rollup_error", status=500), Response("ok")))
    job = JobFactory(channel=channel_on(httpserver, "slack"))
    dispatcher.dispatch_once()
    job.refresh_from_db()
    assert (job.status, job.attempts, job.retries) == (JobStatus.PUBLISHED, 3, 2)
    assert len(httpserver.log) == 3


def test_retries_wait_with_backoff(httpserver, settings):
    settings.PUBLISHING_BACKOFF_BASE_SECONDS = 60
    httpserver.expect_request("/slack").respond_with_data("rollup_error", status=500)
    job = JobFactory(channel=channel_on(httpserver, "slack"))
    before = timezone.now()
    dispatcher.dispatch_once()
    job.refresh_from_db()
    assert job.status == JobStatus.SCHEDULED
    assert timedelta(seconds=59) < job.next_retry_at - before < timedelta(seconds=62)
    assert "500" in job.error_message


def test_retries_run_out_and_the_job_fails_with_the_providers_reason(httpserver, settings):
    settings.PUBLISHING_MAX_RETRIES = 2
    httpserver.expect_request("/slack").respond_with_data("rollup_error", status=500)
    job = JobFactory(channel=channel_on(httpserver, "slack"))
    dispatcher.dispatch_once()
    job.refresh_from_db()
    assert (job.status, job.attempts) == (JobStatus.FAILED, 3)
    assert "rollup_error" in job.error_message


def test_rejected_post_fails_at_once(httpserver):
    httpserver.expect_request("/discord").respond_with_json(
        {"code": 50035, "message": "Invalid Form Body", "errors": {}}, status=400)
    job = JobFactory(channel=channel_on(httpserver, "discord"))
    dispatcher.dispatch_once()
    job.refresh_from_db()
    assert (job.status, job.attempts) == (JobStatus.FAILED, 1)
    assert "Invalid Form Body" in job.error_message
    assert len(httpserver.log) == 1


def test_rate_limited_post_waits_as_told_without_using_a_retry(httpserver):
    httpserver.expect_request("/slack").respond_with_data("", status=429, headers={"Retry-After": "30"})
    job = JobFactory(channel=channel_on(httpserver, "slack"))
    before = timezone.now()
    dispatcher.dispatch_once()
    job.refresh_from_db()
    assert (job.status, job.retries) == (JobStatus.SCHEDULED, 0)
    assert timedelta(seconds=29) < job.due_at - before < timedelta(seconds=32)


def _slow(seconds, body="ok", received=None):
    def handler(request):
        if received is not None:
            received.append(request.method)
        time.sleep(seconds)
        return Response(body)

    return handler


def test_unknown_outcome_without_lookup_needs_checking_and_is_not_posted_again(httpserver):
    posts = []
    httpserver.expect_request("/slack").respond_with_handler(_slow(1.0, received=posts))
    job = JobFactory(channel=channel_on(httpserver, "slack", timeout=0.3))
    dispatcher.dispatch_once()
    job.refresh_from_db()
    assert job.status == JobStatus.NEEDS_CHECKING
    assert "Check the channel" in job.error_message
    assert posts == ["POST"]


def test_unknown_outcome_on_devto_looks_the_article_up_instead_of_posting_again(httpserver):
    posts = []
    httpserver.expect_request("/api/articles", method="POST").respond_with_handler(_slow(0.8, received=posts))
    job = JobFactory(channel=channel_on(httpserver, "devto", timeout=0.5), version__kind="devto")
    canonical = dispatcher.build_post(job).canonical_url
    httpserver.expect_request("/api/articles/me/all").respond_with_json(
        [{"id": 77, "title": "x", "url": "https://dev.to/u/x-1", "canonical_url": canonical}])
    dispatcher.dispatch_once()
    job.refresh_from_db()
    assert (job.status, job.external_id, job.external_url) == (JobStatus.PUBLISHED, "77", "https://dev.to/u/x-1")
    assert posts == ["POST"]


def test_unknown_outcome_on_x_finds_the_post_in_the_accounts_timeline(httpserver):
    posts = []
    httpserver.expect_request("/2/tweets", method="POST").respond_with_handler(_slow(0.8, received=posts))
    job = JobFactory(channel=channel_on(httpserver, "x", timeout=0.5), version__kind="x")
    text = dispatcher.build_post(job).text
    httpserver.expect_request("/2/users/me").respond_with_json({"data": {"id": "42", "username": "aicmo"}})
    httpserver.expect_request("/2/users/42/tweets").respond_with_json(
        {"data": [{"id": "1346889436626259968", "text": text}], "meta": {"result_count": 1}})

    dispatcher.dispatch_once()

    job.refresh_from_db()
    assert (job.status, job.external_id) == (JobStatus.PUBLISHED, "1346889436626259968")
    assert job.events.filter(to_status=JobStatus.PUBLISHED, by_system="reconciler").exists()
    [timeline] = [r for r, _ in httpserver.log if r.path == "/2/users/42/tweets"]
    sent = job.events.get(to_status=JobStatus.PUBLISHED).created_at - timedelta(seconds=5)
    assert timeline.args["start_time"] >= f"{sent - timedelta(seconds=60):%Y-%m-%dT%H:%M:%S}Z"
    assert posts == ["POST"]


def test_unknown_outcome_on_bluesky_not_in_the_repo_is_posted_again(httpserver, settings):
    settings.PUBLISHING_BACKOFF_BASE_SECONDS = 60
    posts = []
    httpserver.expect_request("/xrpc/com.atproto.server.createSession").respond_with_json(
        {"accessJwt": "a", "refreshJwt": "r", "handle": "aicmo.bsky.social", "did": "did:plc:abc"})
    httpserver.expect_request("/xrpc/com.atproto.repo.createRecord").respond_with_handler(_slow(0.8, received=posts))
    httpserver.expect_request("/xrpc/com.atproto.repo.listRecords").respond_with_json({"records": [
        {"uri": "at://did:plc:abc/app.bsky.feed.post/3old", "cid": "c",
         "value": {"text": "an older post", "createdAt": "2020-01-01T00:00:00.000Z"}}]})
    job = JobFactory(channel=channel_on(httpserver, "bluesky", timeout=0.5), version__kind="bluesky")

    dispatcher.dispatch_once()

    job.refresh_from_db()
    assert (job.status, job.attempts, job.retries) == (JobStatus.SCHEDULED, 1, 1)
    assert "has no such post, so it is posted again" in job.error_message
    assert posts == ["POST"]


def test_unknown_outcome_on_mastodon_retries_with_the_same_idempotency_key(httpserver):
    httpserver.expect_request("/api/v2/instance").respond_with_json(
        {"configuration": {"statuses": {"max_characters": 500}}})
    httpserver.expect_request("/api/v1/statuses").respond_with_handler(answers(
        Response(status=502), Response(json.dumps({"id": "1", "url": "https://m.example/@a/1"}),
                                       content_type="application/json")))
    channel = channel_on(httpserver, "mastodon")
    job = JobFactory(channel=channel, version__kind="mastodon")
    token, _ = dispatcher.claim_due()
    job.refresh_from_db()
    dispatcher.reconcile(job=job, token=token, post=dispatcher.build_post(job), reason="Outcome unknown")
    job.refresh_from_db()
    assert job.status == JobStatus.SCHEDULED
    dispatcher.dispatch_once()
    job.refresh_from_db()
    assert job.status == JobStatus.PUBLISHED
    keys = {r.headers["Idempotency-Key"] for r, _ in httpserver.log if r.method == "POST"}
    assert keys == {str(job.idempotency_key)}


def test_an_expired_claim_that_was_never_sent_goes_back_to_the_queue_silently(httpserver):
    httpserver.expect_request("/slack").respond_with_data("ok")
    job = JobFactory(channel=channel_on(httpserver, "slack"))
    dispatcher.claim_due()
    PublishingJob.objects.filter(pk=job.pk).update(lease_until=timezone.now() - timedelta(seconds=1))

    counts = dispatcher.dispatch_once()

    job.refresh_from_db()
    assert counts == {"recovered": 1, "published": 1}
    assert (job.status, job.attempts, job.retries) == (JobStatus.PUBLISHED, 1, 0)
    assert not job.events.filter(to_status=JobStatus.NEEDS_CHECKING).exists()
    assert len(httpserver.log) == 1


def test_an_expired_claim_whose_request_may_have_started_is_reconciled_not_reposted(httpserver):
    httpserver.expect_request("/slack").respond_with_data("ok")
    job = JobFactory(channel=channel_on(httpserver, "slack"))
    token, _ = dispatcher.claim_due()
    assert job_mark_sending(job_id=job.pk, token=token)
    PublishingJob.objects.filter(pk=job.pk).update(lease_until=timezone.now() - timedelta(seconds=1))

    counts = dispatcher.dispatch_once()

    job.refresh_from_db()
    assert counts["recovered"] == 1
    assert job.status == JobStatus.NEEDS_CHECKING
    assert "dispatcher stopped while posting" in job.error_message and "Check the channel" in job.error_message
    assert httpserver.log == []


def _expired_while_sending(httpserver) -> tuple[PublishingJob, SlackWorkspace]:
    """A Slack (bot token) job whose dispatcher died after marking it sending."""
    workspace = SlackWorkspace()
    workspace.serve(httpserver)
    job = JobFactory(channel=channel_on(httpserver, "slack_bot"), version__kind="slack")
    token, _ = dispatcher.claim_due()
    assert job_mark_sending(job_id=job.pk, token=token)
    PublishingJob.objects.filter(pk=job.pk).update(lease_until=timezone.now() - timedelta(seconds=1))
    return job, workspace


def test_an_expired_claim_on_slack_with_a_bot_token_finds_the_message_its_request_made(httpserver):
    job, workspace = _expired_while_sending(httpserver)
    made = workspace.post({"channel": CHANNEL, "text": "made by the dead dispatcher's request",
                           "metadata": {"event_type": "aicmo_post",
                                        "event_payload": {"job_key": str(job.idempotency_key)}}})

    counts = dispatcher.dispatch_once()

    job.refresh_from_db()
    assert counts == {"recovered": 1}
    assert (job.status, job.external_id) == (JobStatus.PUBLISHED, made["ts"])
    assert job.events.filter(to_status=JobStatus.PUBLISHED, by_system="reconciler").exists()
    assert len(workspace.messages) == 1 and len(workspace.history_calls) == 1


def test_an_expired_claim_on_slack_with_a_bot_token_whose_request_never_left_is_posted_once(httpserver):
    job, workspace = _expired_while_sending(httpserver)

    dispatcher.dispatch_once()  # recovery: the whole history read, no message with the job's key
    dispatcher.dispatch_once()  # before posting again, the look-up is made once more

    job.refresh_from_db()
    assert (job.status, job.attempts) == (JobStatus.PUBLISHED, 2)
    assert workspace.keys() == [str(job.idempotency_key)]
    assert not job.events.filter(to_status=JobStatus.NEEDS_CHECKING).exists()


def test_a_look_up_refused_by_an_open_breaker_waits_for_it_instead_of_asking_a_person(httpserver):
    job, workspace = _expired_while_sending(httpserver)
    workspace.post({"channel": CHANNEL, "text": "made by the dead dispatcher's request",
                    "metadata": {"event_type": "aicmo_post", "event_payload": {"job_key": str(job.idempotency_key)}}})
    open_until = timezone.now() + timedelta(seconds=30)
    ProviderHealth.objects.filter(account=job.channel.provider_account).update(
        breaker_state=BreakerState.OPEN, opened_at=timezone.now(), open_until=open_until, open_reason="failures")

    dispatcher.dispatch_once()

    job.refresh_from_db()
    assert (job.status, job.retries) == (JobStatus.SCHEDULED, 0)
    assert job.due_at >= open_until - timedelta(seconds=1)
    assert "is held back" in job.error_message and workspace.history_calls == []
    ProviderHealth.objects.filter(account=job.channel.provider_account).update(
        breaker_state=BreakerState.CLOSED, open_until=None)
    PublishingJob.objects.filter(pk=job.pk).update(due_at=timezone.now())

    dispatcher.dispatch_once()

    job.refresh_from_db()
    assert (job.status, job.external_id) == (JobStatus.PUBLISHED, workspace.messages[0]["ts"])
    assert len(workspace.messages) == 1, "looked up before posting again, and found"
    assert not job.events.filter(to_status=JobStatus.NEEDS_CHECKING).exists()


def test_unknown_outcome_on_slack_with_a_bot_token_is_settled_by_the_look_up(httpserver):
    workspace = SlackWorkspace()

    def stored_then_failed(request):
        workspace.post(request.get_json())
        return Response('{"ok": false, "error": "internal_error"}', status=503)

    httpserver.expect_request("/api/chat.postMessage").respond_with_handler(stored_then_failed)
    workspace.serve(httpserver)
    job = JobFactory(channel=channel_on(httpserver, "slack_bot"), version__kind="slack")

    dispatcher.dispatch_once()

    job.refresh_from_db()
    assert (job.status, job.external_id, job.attempts) == (JobStatus.PUBLISHED, workspace.messages[0]["ts"], 1)
    assert workspace.keys() == [str(job.idempotency_key)]


def test_a_live_dispatchers_heartbeat_keeps_its_claims_from_recovery(httpserver, settings):
    settings.PUBLISHING_LEASE_SECONDS = 2
    httpserver.expect_request("/slack").respond_with_data("ok")
    job = JobFactory(channel=channel_on(httpserver, "slack"))
    token, _ = dispatcher.claim_due(token="live-dispatcher")
    PublishingJob.objects.filter(pk=job.pk).update(lease_until=timezone.now() - timedelta(seconds=1))

    jobs_keep_claimed(token=token)

    assert dispatcher.recover_expired() == 0
    job.refresh_from_db()
    assert (job.status, job.claim_token) == (JobStatus.PUBLISHING, token)
    assert job.lease_until > timezone.now() + timedelta(seconds=1)


def test_urgent_jobs_are_claimed_before_every_other_due_job(httpserver):
    channel = channel_on(httpserver, "slack")
    backlog = JobFactory.create_batch(3, channel=channel, due_at=timezone.now() - timedelta(hours=1))
    urgent = JobFactory(channel=channel, urgent=True, campaign=backlog[0].campaign)

    _, first = dispatcher.claim_due(limit=1)

    assert first == [urgent.pk]


def test_an_open_breaker_holds_jobs_back_without_an_attempt_or_a_retry(httpserver):
    httpserver.expect_request("/slack").respond_with_data("ok")
    job = JobFactory(channel=channel_on(httpserver, "slack"))
    until = timezone.now() + timedelta(seconds=40)
    ProviderHealth.objects.filter(account_id=job.channel.provider_account_id).update(
        breaker_state=BreakerState.OPEN, opened_at=timezone.now(), open_until=until, open_reason="failures")

    dispatcher.dispatch_once()

    job.refresh_from_db()
    assert (job.status, job.attempts, job.retries, job.sending_since) == (JobStatus.SCHEDULED, 0, 0, None)
    assert until - timedelta(seconds=2) < job.due_at < until + timedelta(seconds=2)
    assert httpserver.log == []


def test_a_receiver_slower_than_the_timeout_is_retried_with_the_same_key_then_needs_checking(httpserver, settings):
    settings.PUBLISHING_MAX_RETRIES = 2
    keys = []

    def slow(request):
        keys.append(request.headers["webhook-id"])
        time.sleep(0.6)
        return Response("ok")

    httpserver.expect_request("/webhook").respond_with_handler(slow)
    job = JobFactory(channel=channel_on(httpserver, "webhook", timeout=0.3))

    dispatcher.dispatch_once()

    job.refresh_from_db()
    assert job.status == JobStatus.NEEDS_CHECKING
    assert "same idempotency key" in job.error_message and "Check the channel" in job.error_message
    assert keys == [str(job.idempotency_key)] * 3 and job.attempts == 3


def test_two_claims_never_share_a_job(httpserver):
    jobs = [JobFactory(channel=channel_on(httpserver, "slack", path=f"/s{n}")) for n in range(5)]
    first_token, first = dispatcher.claim_due(limit=3)
    second_token, second = dispatcher.claim_due(limit=10)
    assert len(first) == 3 and len(second) == 2
    assert set(first).isdisjoint(second)
    assert set(first) | set(second) == {j.pk for j in jobs}
    assert dispatcher.claim_due()[1] == []


def test_manual_channel_waits_for_a_person_who_reports_the_url(make_user):
    job = JobFactory(channel=ChannelFactory(kind="linkedin"), version__kind="linkedin")
    dispatcher.dispatch_once()
    job.refresh_from_db()
    assert job.status == JobStatus.AWAITING_MANUAL
    assert "Launch notes" in job.draft
    job_mark_published(job=job, by=make_user("poster"), url="https://www.linkedin.com/feed/update/1")
    job.refresh_from_db()
    assert (job.status, job.external_url) == (JobStatus.PUBLISHED, "https://www.linkedin.com/feed/update/1")


def test_website_channel_publishes_the_public_page(client):
    job = JobFactory(channel=ChannelFactory(kind="website"), version__kind="website")
    dispatcher.dispatch_once()
    job.refresh_from_db()
    assert job.status == JobStatus.PUBLISHED
    assert job.external_url.endswith(job.content.get_public_url())


@pytest.mark.django_db(transaction=True)
def test_posting_threads_keep_one_connection_each_and_close_it_when_the_run_ends(httpserver, settings):
    settings.PUBLISHING_DISPATCH_THREADS = 2
    httpserver.expect_request("/slack", method="POST").respond_with_data("ok")
    channel = channel_on(httpserver, "slack")
    first = JobFactory(channel=channel)
    JobFactory.create_batch(7, channel=channel, campaign=first.campaign)
    opened = []

    def note(sender, connection, **kwargs):
        if threading.current_thread().name.startswith("publish"):
            opened.append(connection)

    connection_created.connect(note)
    try:
        counts = dispatcher.dispatch_once(limit=4)
    finally:
        connection_created.disconnect(note)

    assert counts == {"recovered": 0, "published": 8}
    assert 1 <= len(opened) <= 2  # one per thread, not one per post
    assert all(connection.connection is None for connection in opened)


def test_a_markdown_channel_renders_the_post_once(monkeypatch):
    job = JobFactory(channel=ChannelFactory(kind="devto"), version__kind="devto")
    formatter = formatter_for("devto")
    renders = []
    monkeypatch.setattr(type(formatter), "render", lambda self, version: renders.append(version) or "# Launch")

    post = dispatcher.build_post(job)

    assert (post.text, post.body_markdown, len(renders)) == ("# Launch", "# Launch", 1)


def test_a_429_in_a_row_of_posts_to_one_account_holds_back_the_rest_without_using_their_retries(httpserver):
    httpserver.expect_request("/slack").respond_with_handler(answers(
        Response("ok"), Response("", status=429, headers={"Retry-After": "30"}), Response("ok")))
    channel = channel_on(httpserver, "slack")
    first = JobFactory(channel=channel)
    others = JobFactory.create_batch(3, channel=channel, campaign=first.campaign)
    before = timezone.now()

    counts = dispatcher.dispatch_once(limit=4)

    assert counts == {"recovered": 0, "published": 1, "scheduled": 3}
    assert len(httpserver.log) == 2  # the two after the 429 were not sent
    for job in others:
        job.refresh_from_db()
        assert (job.status, job.retries) == (JobStatus.SCHEDULED, 0)
        assert timedelta(seconds=29) < job.due_at - before < timedelta(seconds=32)


def test_a_post_that_cannot_be_built_fails_alone_and_the_rest_of_its_account_goes_out(httpserver, monkeypatch):
    httpserver.expect_request("/slack", method="POST").respond_with_data("ok")
    channel = channel_on(httpserver, "slack")
    broken = JobFactory(channel=channel)
    fine = JobFactory(channel=channel, campaign=broken.campaign)
    formatter = type(formatter_for(broken.version.kind))
    render = formatter.render

    def render_or_fail(self, version):
        if version.pk == broken.version_id:
            raise ValueError("a template error")
        return render(self, version)

    monkeypatch.setattr(formatter, "render", render_or_fail)

    counts = dispatcher.dispatch_once(limit=2)

    assert counts == {"recovered": 0, "scheduled": 3, "failed": 1, "published": 1}  # no backoff in these tests
    fine.refresh_from_db()
    broken.refresh_from_db()
    assert fine.status == JobStatus.PUBLISHED and len(httpserver.log) == 1
    assert (broken.status, broken.attempts) == (JobStatus.FAILED, 0)
    assert "could not be prepared" in broken.error_message


def test_an_accounts_jobs_go_out_in_rows_of_a_few_and_other_channels_alone(httpserver):
    channel = channel_on(httpserver, "slack")
    first = JobFactory(channel=channel)
    JobFactory.create_batch(dispatcher.POSTS_IN_A_ROW, channel=channel, campaign=first.campaign)
    website = JobFactory(channel=ChannelFactory(kind="website"), version__kind="website", campaign=first.campaign)
    token, ids = dispatcher.claim_due()

    groups = dispatcher._by_account(dispatcher._claimed_jobs(ids, token))

    assert sorted(len(group) for group in groups) == [1, 1, dispatcher.POSTS_IN_A_ROW]
    assert [website] in groups


def test_a_post_whose_sending_mark_cannot_be_written_is_not_sent(httpserver, monkeypatch):
    httpserver.expect_request("/slack").respond_with_data("ok")
    job = JobFactory(channel=channel_on(httpserver, "slack"))

    def unwritable(**kwargs):
        raise DatabaseError("database is locked")

    monkeypatch.setattr(dispatcher, "job_mark_sending", unwritable)

    token, ids = dispatcher.claim_due()
    statuses = dispatcher.publish_batch(token, ids)

    job.refresh_from_db()
    assert statuses == [JobStatus.SCHEDULED] and httpserver.log == []
    assert (job.status, job.attempts, job.sending_since) == (JobStatus.SCHEDULED, 0, None)
    assert "withdrawn" in job.error_message


# With DEBUG on every connection logs its last 9,000 statements, and Django forgets them only when a request
# starts: a dispatcher loop serves none, and neither do its threads.
def test_publish_due_loop_keeps_no_log_of_its_earlier_rounds(settings):
    settings.DEBUG = True
    db.connection.queries_log.clear()

    call_command("publish_due", "--loop", "--seconds", "0.5", "--poll", "0.01")

    assert 0 < len(db.connection.queries_log) <= 10  # the last round's, not fifty rounds'


def test_a_posting_thread_forgets_the_statements_of_its_earlier_posts(settings, monkeypatch):
    settings.DEBUG = True
    logged = []

    def post_group(jobs, token, session):
        db.connection.cursor().execute("SELECT 1")
        logged.append(len(db.connection.queries_log))
        return ["published"]

    monkeypatch.setattr(dispatcher, "_post_group", post_group)
    with ThreadPoolExecutor(max_workers=1) as pool:
        for _ in range(3):
            pool.submit(dispatcher._post_group_in_thread, [], "token", None).result()
        pool.submit(lambda: db.connection.close()).result()  # the thread's own, looked up there

    assert logged == [1, 1, 1]


def test_the_heartbeat_thread_forgets_the_statements_of_its_earlier_beats(settings, monkeypatch):
    settings.DEBUG = True
    settings.PUBLISHING_LEASE_SECONDS = 0.04  # a beat every 10 ms
    logged = []

    def keep_claimed(*, token):
        db.connection.cursor().execute("SELECT 1")
        logged.append(len(db.connection.queries_log))

    monkeypatch.setattr("publishing.reconcile.jobs_keep_claimed", keep_claimed)
    with Heartbeat("token"):
        deadline = time.monotonic() + 10
        while len(logged) < 3 and time.monotonic() < deadline:
            time.sleep(0.01)

    assert len(logged) >= 3 and set(logged) == {1}
