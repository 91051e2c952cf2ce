import pytest
from django.db import connection
from django.utils import timezone

from publishing import dispatcher
from publishing.choices import DUE_JOB, JobStatus
from publishing.models import JobEvent, PublishingJob
from publishing.tests.channels import channel_on
from publishing.tests.factories import JobFactory

pytestmark = pytest.mark.django_db

BATCH = 8
# The batch's channel accounts are read with their health rows (which also hold the token buckets) in
# one query, an account's posts go out in rows of a few, and the run writes the health outcome once.
# Per job: its rate-limit token. Per batch: recover, claim (lock, update, read, events), load (jobs,
# media), the accounts, record (lock, update, the posts' own fields, events), campaign check (status,
# open jobs), the health write, the empty claim that ends the run, SQLite's savepoints around atomic
# blocks, and a fresh read of the token bucket for the account's second row (its first read is stale).
PER_JOB, PER_BATCH = 1, 24


def test_a_batch_of_posts_costs_a_few_queries_per_job(httpserver, settings, django_assert_max_num_queries):
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


def test_a_job_whose_lease_was_taken_back_mid_batch_is_still_recorded_published(httpserver, settings):
    settings.PUBLISHING_DISPATCH_THREADS = 1
    httpserver.expect_request("/slack", method="POST").respond_with_data("ok")
    channel = channel_on(httpserver, "slack")
    kept, taken_back = JobFactory(channel=channel), JobFactory(channel=channel)
    token, _ = dispatcher.claim_due()
    jobs = dispatcher._claimed_jobs([kept.pk, taken_back.pk], token)
    posted = [dispatcher.post_claimed(job, token) for job in jobs]
    PublishingJob.objects.filter(pk=taken_back.pk).update(status=JobStatus.NEEDS_CHECKING, claim_token="")

    recorded = dispatcher.jobs_record_published(token=token, posted=posted)

    assert sorted(job.pk for job in recorded) == sorted([kept.pk, taken_back.pk])
    assert set(PublishingJob.objects.values_list("status", flat=True)) == {JobStatus.PUBLISHED}
    assert len(httpserver.log) == 2


# SQLite uses a partial index only when the query's own literals imply its condition, never with
# bound parameters as Django sends them; there the claim sorts, which its small queues afford.
@pytest.mark.skipif(connection.vendor != "postgresql", reason="partial index plans are PostgreSQL's")
def test_the_claim_reads_due_jobs_in_order_from_an_index_without_sorting_them():
    JobFactory.create_batch(3)
    due = (PublishingJob.objects.filter(status__in=DUE_JOB, due_at__lte=timezone.now()).order_by("due_at", "pk")
           .values_list("pk", "status")[:64])  # the read claim_due locks its jobs with
    sql, params = due.query.sql_with_params()

    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # a handful of test rows would be read whole
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())

    assert "Index Scan using publishing_job_queue" in plan, plan
    assert "Sort" not in plan, plan
