"""Stuck work: a send, a campaign's jobs, an enrichment run or an import still open with no progress for
STUCK_AFTER_MINUTES is flagged on its own page and on the home page; work that moves is not."""

from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.utils import timezone

from aicmo_site.models import BackgroundRun
from aicmo_site.roles import ADMIN
from aicmo_site.stuck import stuck_work_everywhere
from crm.choices import RunStatus
from crm.imports import import_run_create
from crm.models import EnrichmentRun, ImportRun
from crm.run_rows import shared_run_create
from crm.tests.factories import ContactFactory, EnrichmentRunFactory
from publishing.choices import CampaignStatus, JobStatus
from publishing.email.choices import SendStatus
from publishing.email.models import EmailCampaign, EmailDelivery
from publishing.models import Campaign, PublishingJob
from publishing.tests.email.factories import EmailCampaignFactory, EmailDeliveryFactory
from publishing.tests.factories import CampaignFactory, JobFactory

pytestmark = pytest.mark.django_db


def hours_ago(hours: float):
    return timezone.now() - timedelta(hours=hours)


@pytest.fixture
def stuck_and_moving(settings):
    """One of each kind of work, stuck for two hours, and one of each that moved five minutes ago."""
    settings.STUCK_AFTER_MINUTES = 30
    made = {}
    for state, when in (("stuck", hours_ago(2)), ("moving", hours_ago(5 / 60))):
        send = EmailCampaignFactory(campaign=CampaignFactory(name=f"{state} send"), status=SendStatus.SENDING)
        delivery = EmailDeliveryFactory(campaign=send.campaign, status="sent", message_id=f"<{state}@aicmo.example>")
        EmailCampaign.objects.filter(pk=send.pk).update(updated_at=hours_ago(3), started_at=hours_ago(3))
        EmailDelivery.objects.filter(pk=delivery.pk).update(sent_at=when)
        job = JobFactory(campaign=CampaignFactory(name=f"{state} campaign", status=CampaignStatus.RUNNING),
                         status=JobStatus.QUEUED)
        PublishingJob.objects.filter(pk=job.pk).update(updated_at=when)
        run = EnrichmentRunFactory(status=RunStatus.RUNNING)
        EnrichmentRun.objects.filter(pk=run.pk).update(created_at=hours_ago(3), started_at=hours_ago(3),
                                                       progressed_at=when)
        upload = ImportRun.objects.create(file=ContentFile(b"email\n", name=f"{state}.csv"),
                                          original_name=f"{state}.csv", status=RunStatus.RUNNING)
        ImportRun.objects.filter(pk=upload.pk).update(started_at=hours_ago(3), progressed_at=when)
        # Their rows among all background work, as the crm services make them.
        shared_run_create(EnrichmentRun.objects.get(pk=run.pk))
        shared_run_create(ImportRun.objects.get(pk=upload.pk))
        made[state] = {"send": send, "campaign": job.campaign, "run": run, "import": upload}
    return made


def test_home_page_lists_only_the_stuck_work_with_links(stuck_and_moving, client, make_user):
    stuck = stuck_and_moving["stuck"]
    client.force_login(make_user("boss", role=ADMIN))

    text = client.get("/").content.decode()

    section = text[text.index('id="stuck-work"'):]
    section = section[:section.index("</section>")]
    assert f'Email send: <a href="/email/campaigns/{stuck["send"].campaign_id}/">stuck send</a>' in section
    assert f'Campaign: <a href="/publishing/campaigns/{stuck["campaign"].pk}/">stuck campaign (1 stuck job)' in section
    enrichment = f'<a href="/contacts/enrichment/{stuck["run"].pk}/">Enrichment of all new contacts</a>'
    assert f"Enrichment: {enrichment}" in section
    assert f'Contact import: <a href="/contacts/imports/{stuck["import"].pk}/">Import of stuck.csv</a>' in section
    assert "moving" not in section and "no progress since" in section


def test_each_stuck_page_says_so_and_a_moving_one_does_not(stuck_and_moving, client, make_user):
    client.force_login(make_user("boss", role=ADMIN))
    pages = {state: [f"/email/campaigns/{made['send'].campaign_id}/",
                     f"/publishing/campaigns/{made['campaign'].pk}/",
                     f"/contacts/enrichment/{made['run'].pk}/",
                     f"/contacts/imports/{made['import'].pk}/"] for state, made in stuck_and_moving.items()}

    for address in pages["stuck"]:
        assert 'id="stuck"' in client.get(address).content.decode(), address
    for address in pages["moving"]:
        assert 'id="stuck"' not in client.get(address).content.decode(), address
    stuck_job = stuck_and_moving["stuck"]["campaign"].jobs.get()
    campaign_page = client.get(pages["stuck"][1]).content.decode()
    row = campaign_page[campaign_page.index(f'data-job="{stuck_job.pk}"'):]
    assert campaign_page.count("data-stuck") == 1 and "data-stuck" in row[:row.index("</tr>")]
    assert 'id="stuck-jobs">1 job stuck.' in campaign_page


def test_the_threshold_is_a_setting(stuck_and_moving, settings):
    settings.STUCK_AFTER_MINUTES = 3 * 60
    assert stuck_work_everywhere() == []
    settings.STUCK_AFTER_MINUTES = 1
    assert len(stuck_work_everywhere()) == 8


def test_finished_or_paused_work_is_never_stuck(stuck_and_moving):
    stuck = stuck_and_moving["stuck"]
    EmailCampaign.objects.filter(pk=stuck["send"].pk).update(status=SendStatus.PAUSED)
    Campaign.objects.filter(pk=stuck["campaign"].pk).update(status=CampaignStatus.PAUSED)
    for model, status in ((EnrichmentRun, RunStatus.COMPLETED), (ImportRun, RunStatus.CANCELED)):
        record = model.objects.get(pk=stuck["run" if model is EnrichmentRun else "import"].pk)
        model.objects.filter(pk=record.pk).update(status=status)
        BackgroundRun.objects.filter(pk=record.run_id).update(status=status)

    assert stuck_work_everywhere() == []


def test_finding_stuck_work_costs_one_query_per_kind_whatever_its_amount(stuck_and_moving, django_assert_num_queries):
    for _ in range(3):
        shared_run_create(EnrichmentRunFactory(status=RunStatus.QUEUED))
    BackgroundRun.objects.filter(kind="enrichment", status="queued").update(created_at=hours_ago(2))
    ContactFactory()

    # sends, the oldest open or click not yet counted, campaigns, background runs (imports and enrichment included)
    with django_assert_num_queries(4):
        found = stuck_work_everywhere()

    assert [item.kind for item in found].count("Enrichment") == 4


def test_an_import_queued_longer_than_the_threshold_is_stuck(settings):
    """No worker took it, or no one mapped its columns: either way someone must look."""
    settings.STUCK_AFTER_MINUTES = 30
    for name in ("waiting.csv", "new.csv"):
        import_run_create(upload=ContentFile(b"email\nann@example.com\n", name=name), original_name=name)
    BackgroundRun.objects.filter(label="Import of waiting.csv").update(created_at=hours_ago(2))

    assert [(item.kind, item.name) for item in stuck_work_everywhere()] == [("Contact import", "Import of waiting.csv")]
