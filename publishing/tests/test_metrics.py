import io

import pytest

from aicmo_site.roles import MARKETER
from gateways.capabilities import Capability
from gateways.models import ProviderAccount
from gateways.services import account_create
from publishing.choices import JobStatus, MetricSource
from publishing.models import MetricSnapshot, PublishingJob
from publishing.services.metrics import MAX_METRIC_ROWS, metrics_pull
from publishing.tests.channels import channel_on
from publishing.tests.factories import JobFactory

pytestmark = pytest.mark.django_db


def test_devto_statistics_become_snapshots_and_campaign_totals(httpserver):
    channel = channel_on(httpserver, "devto")
    metrics_account = account_create(capability=Capability.METRICS_FETCHING, adapter="devto_metrics",
                                     name="devto stats", base_url=httpserver.url_for("").rstrip("/"),
                                     credentials={"api_key": "devto-key"})
    # The Dev.to metrics adapter does not declare its channel yet (reported to gateways); the account
    # is tied to the Dev.to channel as it will be once it does.
    ProviderAccount.objects.filter(pk=metrics_account.pk).update(channel="devto")
    job = JobFactory(channel=channel, version__kind="devto")
    PublishingJob.objects.filter(pk=job.pk).update(status=JobStatus.PUBLISHED, external_id="1544")
    httpserver.expect_request("/api/articles/me/all").respond_with_json([
        {"id": 1544, "page_views_count": 120, "public_reactions_count": 9, "comments_count": 2},
        {"id": 7, "page_views_count": 5},
    ])

    assert metrics_pull() == 1

    snapshot = MetricSnapshot.objects.get()
    assert (snapshot.job_id, snapshot.source, snapshot.impressions, snapshot.engagements) == (
        job.pk, MetricSource.CHANNEL, 120, 11)


def test_nothing_is_pulled_for_a_channel_without_a_statistics_account(httpserver):
    channel = channel_on(httpserver, "devto")
    job = JobFactory(channel=channel, version__kind="devto")
    PublishingJob.objects.filter(pk=job.pk).update(status=JobStatus.PUBLISHED, external_id="1")
    assert metrics_pull() == 0
    assert MetricSnapshot.objects.count() == 0


def _import(client, text: str):
    upload = io.BytesIO(text.encode())
    upload.name = "metrics.csv"
    return client.post("/api/jobs/import-metrics/", {"file": upload}, format="multipart")


def test_a_metrics_file_with_values_no_database_holds_reports_those_lines_and_imports_the_rest(api_as):
    job = JobFactory()
    header = "job_id,taken_at,impressions,clicks,engagements,conversions,spend\n"
    bad_lines = [
        f"{2**64},2030-01-01T10:00:00Z,1,1,1,1,1",  # an id beyond 64 bits
        "²,2030-01-01T10:00:00Z,1,1,1,1,1",  # a digit to str.isdigit, not to int()
        f"{job.pk},2030-01-01T10:00:00Z,{2**31},1,1,1,1",  # beyond PostgreSQL's integer
        f"{job.pk},2030-01-01T10:00:00Z,٣,1,1,1,1",  # an Arabic-Indic three
        f"{job.pk},2030-01-01T10:00:00Z,1,1,1,1,NaN",
        f"{job.pk},2030-01-01T10:00:00Z,1,1,1,1,Infinity",
        f"{job.pk},2030-01-01T10:00:00Z,1,1,1,1,1e20",  # more than the 12 digits spend holds
        f"{job.pk},2030-01-01T10:00:00Z,1,1,1,1,0.001",  # finer than a cent
        f"{job.pk},9999-12-31T23:59:59-12:00,1,1,1,1,1",  # after year 9999 in UTC
        f"{job.pk},2030-02-30T10:00:00Z,1,1,1,1,1",
        f"{job.pk},2030-01-01T10:00:00Z,1\x00,1,1,1,1",
    ]
    good = f"{job.pk},2030-01-01T10:00:00Z,50,3,2,1,4.50"
    answer = _import(api_as(MARKETER), header + "\n".join([*bad_lines, good]) + "\n")
    assert answer.status_code == 200, answer.content
    assert answer.json()["imported"] == 1
    assert [error["line"] for error in answer.json()["errors"]] == list(range(2, 2 + len(bad_lines)))
    assert MetricSnapshot.objects.get().impressions == 50


def test_a_metrics_file_that_is_not_a_table_is_refused_with_the_error_shape(api_as):
    answer = _import(api_as(MARKETER), "job_id,spend\n" + "1," + "x" * 1_100_000 + "\n")
    assert answer.status_code == 400 and answer.json()["code"] == "invalid_csv"


def test_a_metrics_file_beyond_the_row_limit_is_refused_before_any_row_is_written(api_as):
    job = JobFactory()
    row = f"{job.pk},,1,0,0,0,0\n"
    answer = _import(api_as(MARKETER), "job_id,taken_at,impressions,clicks,engagements,conversions,spend\n"
                     + row * (MAX_METRIC_ROWS + 1))
    assert answer.status_code == 400 and answer.json()["code"] == "too_many_rows"
    assert not MetricSnapshot.objects.exists()
