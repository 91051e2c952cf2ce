import pytest
from django.db import connection
from django.utils import timezone
from werkzeug import Response

from gateways.health import DeferredSuccesses
from publishing import dispatcher
from publishing.choices import DUE_JOB, JobStatus
from publishing.models import JobEvent, PublishingJob
from publishing.tests.channels import channel_on
from publishing.tests.factories import JobFactory

pytestmark = pytest.mark.django_db

BATCH = 8
# Every job's outcome is its own commit, made as soon as it is known (a crash loses at most the
# outcomes of the posts in flight). Per job: its rate-limit token, the sending mark, and the outcome
# (one conditional update of the dispatcher's own copy, its event, one campaign check; SQLite's
# savepoint and release around it). Per batch: recover, claim (lock, update, read, events), load (jobs,
# media), the accounts, the health write, the empty claim that ends the run, and a fresh read of the
# token bucket for the account's second row (its first read is stale).
PER_JOB, PER_BATCH = 7, 16


@pytest.fixture
def successes_written_once(monkeypatch):
    """A run writes its successes at most once a second: on a loaded machine the batch's posts take
    seconds, and each second would add a write to the count. Here they are written once, at the end."""
    written_every = DeferredSuccesses.__init__
    monkeypatch.setattr(DeferredSuccesses, "__init__",
                        lambda self, account_id, every=1.0: written_every(self, account_id, every=3600))


def test_a_batch_of_posts_costs_a_few_queries_per_job(httpserver, settings, django_assert_max_num_queries,
                                                      successes_written_once):
    settings.PUBLISHING_DISPATCH_THREADS = 1
    httpserver.expect_request("/slack", method="POST").respond_with_data("ok")
    channel = channel_on(httpserver, "slack")
    first = JobFactory(channel=channel)
    JobFactory.create_batch(BATCH, channel=channel, campaign=first.campaign)
    token, ids = dispatcher.claim_due(limit=1)  # the first post of a campaign moves its content and campaign
    dispatcher.publish_claimed(ids[0], token)

    with django_assert_max_num_queries(PER_JOB * BATCH + PER_BATCH):
        counts = dispatcher.dispatch_once(limit=BATCH)

    assert counts == {"recovered": 0, "published": BATCH}
    assert PublishingJob.objects.filter(status=JobStatus.PUBLISHED).count() == BATCH + 1
    assert JobEvent.objects.filter(to_status=JobStatus.PUBLISHED).count() == BATCH + 1


@pytest.mark.django_db(transaction=True)  # the receiver reads what the dispatcher committed
def test_each_outcome_is_committed_before_the_next_post_goes(httpserver, settings):
    settings.PUBLISHING_DISPATCH_THREADS = 1
    seen = []

    def answer(request):
        seen.append(sorted(PublishingJob.objects.values_list("status", flat=True)))
        return Response("ok")

    httpserver.expect_request("/slack", method="POST").respond_with_handler(answer)
    channel = channel_on(httpserver, "slack")
    first = JobFactory(channel=channel)
    JobFactory.create_batch(2, channel=channel, campaign=first.campaign)

    dispatcher.dispatch_once()

    assert seen == [[JobStatus.PUBLISHING] * 3, [JobStatus.PUBLISHED] + [JobStatus.PUBLISHING] * 2,
                    [JobStatus.PUBLISHED] * 2 + [JobStatus.PUBLISHING]]


def test_a_claim_taken_back_before_its_request_is_withdrawn_unsent(httpserver, settings):
    settings.PUBLISHING_DISPATCH_THREADS = 1
    httpserver.expect_request("/slack", method="POST").respond_with_data("ok")
    channel = channel_on(httpserver, "slack")
    JobFactory(channel=channel)
    taken_back = JobFactory(channel=channel)
    token, ids = dispatcher.claim_due()
    PublishingJob.objects.filter(pk=taken_back.pk).update(claim_token="another-dispatcher")

    statuses = dispatcher.publish_batch(token, ids)

    assert sorted(statuses) == ["lost", JobStatus.PUBLISHED]
    assert len(httpserver.log) == 1
    taken_back.refresh_from_db()
    assert (taken_back.status, taken_back.sending_since, taken_back.attempts) == (JobStatus.PUBLISHING, None, 0)


# SQLite uses a partial index only when the query's own literals imply its condition, never with
# bound parameters as Django sends them; there the claim sorts, which its small queues afford.
@pytest.mark.skipif(connection.vendor != "postgresql", reason="partial index plans are PostgreSQL's")
def test_the_claim_reads_due_jobs_in_order_from_an_index_without_sorting_them():
    JobFactory.create_batch(3)
    due = (PublishingJob.objects.filter(status__in=DUE_JOB, due_at__lte=timezone.now())
           .order_by("-urgent", "due_at", "pk")
           .values_list("pk", "status")[:64])  # the read claim_due locks its jobs with
    sql, params = due.query.sql_with_params()

    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # a handful of test rows would be read whole
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())

    assert "Index Scan using publishing_job_queue" in plan, plan
    assert "Sort" not in plan, plan
