"""End to end with real django-q2 workers and contract servers replaying the providers' documented
answers (PROVIDERS.md §4-6, §9): nothing is ever posted twice."""

import json
import threading
from collections import Counter

import pytest
from django.utils import timezone
from django_q.tasks import async_task
from werkzeug import Response

from aicmo_site.roles import APPROVER, MARKETER
from aicmo_site.testing.worker import wait_for
from publishing.choices import CampaignStatus, JobStatus
from publishing.models import PublishingJob
from publishing.services import campaign_activate, campaign_create, content_approve, content_create, content_submit
from publishing.tests.channels import channel_on
from publishing.tests.factories import ChannelFactory, JobFactory

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]
FAST = {"PUBLISHING_BACKOFF_BASE_SECONDS": "0.2", "PUBLISHING_DISPATCH_POLL_SECONDS": "0.2",
        "PUBLISHING_LEASE_SECONDS": "5"}


@pytest.fixture
def worker(qcluster):
    """A qcluster with quick retries; killed at the end of the test (a graceful stop takes 20 s and
    every job the test cares about has ended by then)."""
    started = []

    def start():
        started.append(qcluster(**FAST))
        return started[-1]

    yield start
    for cluster in started:
        cluster.kill()


def approved_content(make_user, **fields):
    author, reviewer = make_user("author", role=MARKETER), make_user("reviewer", role=APPROVER)
    content = content_create(by=author, title="Spring launch", body="We shipped **faster imports**.",
                             tags=["launch", "django"], link_url="https://example.com/spring", **fields)
    content_submit(content=content, by=author)
    return content_approve(content=content, by=reviewer), author


def statuses(campaign=None) -> dict[str, str]:
    jobs = PublishingJob.objects.filter(campaign=campaign) if campaign else PublishingJob.objects.all()
    return dict(jobs.values_list("channel__kind", "status"))


def settled(campaign):
    open_ = (JobStatus.SCHEDULED, JobStatus.QUEUED, JobStatus.PUBLISHING)
    return not PublishingJob.objects.filter(campaign=campaign, status__in=open_).exists()


def test_activated_campaign_is_published_on_every_channel_once(worker, httpserver, make_user):
    httpserver.expect_request("/slack", method="POST").respond_with_data("ok")
    httpserver.expect_request("/discord", method="POST").respond_with_json(
        {"id": "1234567890", "channel_id": "42", "content": "x"})
    httpserver.expect_request("/api/articles", method="POST").respond_with_json(
        {"type_of": "article", "id": 1544, "url": "https://dev.to/acme/spring-launch-39d8", "published": True},
        status=201)
    httpserver.expect_request("/webhook", method="POST").respond_with_data("", status=204)
    content, author = approved_content(make_user)
    channels = [channel_on(httpserver, kind) for kind in ("slack", "discord", "devto", "webhook")]
    channels.append(ChannelFactory(kind="linkedin", name="LinkedIn (by hand)"))
    campaign = campaign_create(by=author, name="Spring", starts_at=timezone.now(), contents=[content],
                               channels=channels)
    campaign_activate(campaign=campaign, by=author)  # enqueues the dispatcher after commit

    worker()
    wait_for(lambda: settled(campaign), timeout=60, message="every job published")

    assert statuses(campaign) == {"slack": "published", "discord": "published", "devto": "published",
                                  "webhook": "published", "linkedin": "awaiting_manual"}
    assert Counter(request.path for request, _ in httpserver.log) == {
        "/slack": 1, "/discord": 1, "/api/articles": 1, "/webhook": 1}
    devto = PublishingJob.objects.get(campaign=campaign, channel__kind="devto")
    assert (devto.external_id, devto.external_url) == ("1544", "https://dev.to/acme/spring-launch-39d8")
    article = json.loads([r for r, _ in httpserver.log if r.path == "/api/articles"][0].data)["article"]
    assert article["title"] == "Spring launch" and article["tags"] == ["launch", "django"]
    webhook = [r for r, _ in httpserver.log if r.path == "/webhook"][0]
    assert webhook.headers["webhook-id"] == str(PublishingJob.objects.get(channel__kind="webhook").idempotency_key)
    content.refresh_from_db()
    assert content.status == "published"
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.RUNNING  # the manual post is still waiting for a person


def test_a_provider_failing_twice_then_succeeding_and_a_permanent_failure(worker, httpserver):
    answers = [Response("rollup_error", status=500), Response("rollup_error", status=500), Response("ok")]
    httpserver.expect_request("/slack").respond_with_handler(lambda request: answers.pop(0))
    httpserver.expect_request("/discord").respond_with_json(
        {"code": 50035, "message": "Invalid Form Body", "errors": {}}, status=400)
    flaky = JobFactory(channel=channel_on(httpserver, "slack"))
    broken = JobFactory(channel=channel_on(httpserver, "discord"), version__kind="discord")

    worker()
    async_task("publishing.tasks.dispatch_loop", 5)
    wait_for(lambda: settled(flaky.campaign) and settled(broken.campaign), timeout=40, message="both jobs ended")

    flaky.refresh_from_db()
    broken.refresh_from_db()
    assert (flaky.status, flaky.attempts, flaky.retries) == (JobStatus.PUBLISHED, 3, 2)
    assert (broken.status, broken.attempts) == (JobStatus.FAILED, 1)
    assert "Invalid Form Body" in broken.error_message


class _HeldPost:
    """A channel that holds each post open until the worker posting it has been killed, then answers."""

    def __init__(self, answer: Response):
        self.answer, self.posts = answer, []
        self.received, self.killed = threading.Event(), threading.Event()

    def __call__(self, request):
        self.posts.append(request.get_data())
        self.received.set()
        self.killed.wait(30)
        return self.answer


def _kill_mid_post(worker, post: _HeldPost):
    first = worker()
    async_task("publishing.tasks.dispatch_loop", 12)
    try:
        assert post.received.wait(30), "the worker never reached the channel"
        first.kill()
    finally:
        post.killed.set()


def test_a_worker_killed_while_posting_to_devto_is_reconciled_by_looking_the_article_up(worker, httpserver):
    post = _HeldPost(Response(json.dumps({"id": 9, "url": "https://dev.to/acme/x-9"}), status=201,
                              content_type="application/json"))
    httpserver.expect_request("/api/articles", method="POST").respond_with_handler(post)
    job = JobFactory(channel=channel_on(httpserver, "devto", timeout=30), version__kind="devto")

    _kill_mid_post(worker, post)
    # Dev.to did create the article: its API lists it from now on.
    canonical = json.loads(post.posts[0])["article"]["canonical_url"]
    httpserver.expect_request("/api/articles/me/all").respond_with_json(
        [{"id": 9, "url": "https://dev.to/acme/x-9", "canonical_url": canonical, "title": "x"}])
    worker()
    async_task("publishing.tasks.dispatch_loop", 12)
    wait_for(lambda: settled(job.campaign), timeout=45, message="the interrupted job reconciled")

    job.refresh_from_db()
    assert (job.status, job.external_id) == (JobStatus.PUBLISHED, "9")
    assert job.events.filter(to_status=JobStatus.PUBLISHED, by_system="reconciler").exists()
    assert len(post.posts) == 1


def test_a_worker_killed_while_posting_to_slack_leaves_the_job_for_a_person(worker, httpserver):
    post = _HeldPost(Response("ok"))
    httpserver.expect_request("/slack").respond_with_handler(post)
    job = JobFactory(channel=channel_on(httpserver, "slack", timeout=30))

    _kill_mid_post(worker, post)
    worker()
    async_task("publishing.tasks.dispatch_loop", 12)
    wait_for(lambda: settled(job.campaign), timeout=45, message="the interrupted job reconciled")

    job.refresh_from_db()
    assert job.status == JobStatus.NEEDS_CHECKING
    assert len(post.posts) == 1


def test_two_workers_never_take_the_same_job(worker, httpserver):
    httpserver.expect_request("/webhook").respond_with_data("", status=204)
    channel = channel_on(httpserver, "webhook")
    jobs = [JobFactory(channel=channel, version__kind="webhook") for _ in range(20)]

    worker()
    worker()
    async_task("publishing.tasks.dispatch_loop", 5)
    async_task("publishing.tasks.dispatch_loop", 5)
    wait_for(lambda: PublishingJob.objects.filter(status=JobStatus.PUBLISHED).count() == 20, timeout=60,
             message="20 jobs published")

    keys = Counter(request.headers["webhook-id"] for request, _ in httpserver.log)
    assert len(httpserver.log) == 20
    assert set(keys) == {str(job.idempotency_key) for job in jobs}
    assert max(keys.values()) == 1
