import pytest

from gateways.capabilities import Capability
from gateways.models import ProviderAccount
from gateways.services import account_create
from publishing.choices import JobStatus, MetricSource
from publishing.models import MetricSnapshot, PublishingJob
from publishing.services.metrics import metrics_pull
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
