"""A retry after an unknown outcome looks for the post of EVERY earlier attempt of its job, not only
the last: a slow provider may make attempt 1's post after the look-up that let attempt 2 go, and the
text may have been edited in between. Bluesky and X replayed from their contracts (PROVIDERS.md §7)
by pytest-httpserver, the provider making a post only when its slow answer is written."""

import json
import threading
import time
from datetime import UTC, datetime

import pytest
from werkzeug import Response

from publishing import dispatcher
from publishing.choices import JobStatus
from publishing.models import ChannelVersion
from publishing.tests.channels import channel_on
from publishing.tests.factories import JobFactory

pytestmark = pytest.mark.django_db
SLOW = 0.8  # the provider's answer; the accounts time out at 0.5 s
SESSION = {"accessJwt": "jwt-access", "refreshJwt": "jwt-refresh", "handle": "aicmo.bsky.social",
           "did": "did:plc:abc123"}


@pytest.fixture(autouse=True)
def retry_after_a_second(settings):
    settings.PUBLISHING_BACKOFF_BASE_SECONDS = 1


class SlowProvider:
    """Posts made at the end of a slow answer (after the client gave up), listed newest first."""

    def __init__(self):
        self.posts: list[dict] = []
        self.requests = 0
        self.lock = threading.Lock()

    def create(self, post: dict) -> Response:
        with self.lock:
            self.requests += 1
        time.sleep(SLOW)
        with self.lock:
            self.posts.insert(0, post)
        return Response("{}", status=200, content_type="application/json")


def dispatch_until_settled(job, rounds=4):
    for _ in range(rounds):
        dispatcher.dispatch_once()
        job.refresh_from_db()
        if job.status in (JobStatus.PUBLISHED, JobStatus.NEEDS_CHECKING, JobStatus.FAILED):
            return
        time.sleep(max(0.0, (job.due_at - datetime.now(UTC)).total_seconds()) + 0.05)


def test_bluesky_finds_attempt_ones_late_post_before_posting_again(httpserver):
    provider = SlowProvider()
    httpserver.expect_request("/xrpc/com.atproto.server.createSession").respond_with_json(SESSION)
    httpserver.expect_request("/xrpc/com.atproto.repo.createRecord", method="POST").respond_with_handler(
        lambda request: provider.create({"uri": "at://did:plc:abc123/app.bsky.feed.post/3k4duaz5vfs2b",
                                         "cid": "bafyrei", "value": request.get_json()["record"]}))
    httpserver.expect_request("/xrpc/com.atproto.repo.listRecords", query_string={
        "repo": "did:plc:abc123", "collection": "app.bsky.feed.post", "limit": "100"}).respond_with_handler(
        lambda request: Response(json.dumps({"records": list(provider.posts)}), content_type="application/json"))
    job = JobFactory(channel=channel_on(httpserver, "bluesky", timeout=0.5), version__kind="bluesky")

    dispatch_until_settled(job)

    assert provider.requests == 1, "posted again though attempt 1's post exists"
    assert (job.status, job.external_id) == (JobStatus.PUBLISHED,
                                             "at://did:plc:abc123/app.bsky.feed.post/3k4duaz5vfs2b")
    assert job.attempts == 1


def test_x_finds_the_text_attempt_one_sent_after_the_post_was_edited(httpserver):
    provider = SlowProvider()
    httpserver.expect_request("/2/tweets", method="POST").respond_with_handler(
        lambda request: provider.create({"id": "1346889436626259968", "text": request.get_json()["text"],
                                         "created_at": datetime.now(UTC).isoformat(timespec="milliseconds")}))
    httpserver.expect_request("/2/users/me").respond_with_json({"data": {"id": "42", "username": "aicmo"}})
    httpserver.expect_request("/2/users/42/tweets").respond_with_handler(
        lambda request: Response(json.dumps({"data": list(provider.posts),
                                             "meta": {"result_count": len(provider.posts)}}),
                                 content_type="application/json"))
    job = JobFactory(channel=channel_on(httpserver, "x", timeout=0.5), version__kind="x",
                     version__body="Launch day")

    dispatcher.dispatch_once()  # attempt 1: no answer in time, and no post yet when looked for
    job.refresh_from_db()
    assert (job.status, provider.requests) == (JobStatus.SCHEDULED, 1)
    ChannelVersion.objects.filter(pk=job.version_id).update(body="Launch day, edited")
    time.sleep(SLOW)  # attempt 1's post is made now
    dispatch_until_settled(job)

    assert provider.requests == 1, "posted again under the edited text though attempt 1's post exists"
    assert (job.status, job.external_id) == (JobStatus.PUBLISHED, "1346889436626259968")
