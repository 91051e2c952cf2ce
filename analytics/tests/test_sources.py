"""Where each measure comes from: email deliveries, crm events, metric snapshots, and what is not read,
so that nothing is counted twice."""

import datetime as dt
from decimal import Decimal

import pytest

from analytics.reports import campaign_report
from analytics.services import rollup_fold, rollup_rebuild
from crm.tests.factories import ContactFactory, EngagementEventFactory
from media.models import AssetPerformance
from media.tests.factories import AssetFactory
from publishing.email.models import EmailDelivery
from publishing.email.services.feedback import delivery_record_open
from publishing.models import Campaign, MetricSnapshot
from publishing.tests.email.factories import EmailDeliveryFactory
from publishing.tests.factories import CampaignFactory, JobFactory

pytestmark = pytest.mark.django_db


def at(day: int, hour: int = 12) -> dt.datetime:
    return dt.datetime(2026, 4, day, hour, tzinfo=dt.UTC)


def sent_delivery(campaign, when, n):
    delivery = EmailDeliveryFactory(campaign=campaign)
    EmailDelivery.objects.filter(pk=delivery.pk).update(status="sent", message_id=f"<m{n}@aicmo>", sent_at=when)
    return EmailDelivery.objects.select_related("contact").get(pk=delivery.pk)


def test_sends_come_from_email_deliveries_once_whatever_crm_also_records():
    campaign = CampaignFactory()
    first = sent_delivery(campaign, at(2), 1)
    sent_delivery(campaign, at(2, 18), 2)
    sent_delivery(campaign, at(3), 3)
    EmailDeliveryFactory(campaign=campaign)  # still queued: not sent
    # The same send recorded again as a crm event from the delivery must not count twice...
    EngagementEventFactory(contact=first.contact, kind="sent", campaign_id=campaign.pk, channel="email",
                           source_kind="delivery", source_id=str(first.pk), occurred_at=at(2))
    # ...while a send recorded by another tool (an import) is a send of its own.
    EngagementEventFactory(contact=ContactFactory(), kind="sent", campaign_id=campaign.pk, channel="email",
                           source_kind="import", occurred_at=at(2))

    rollup_fold()

    def sent_on(day):
        return campaign_report(campaign.pk, start=dt.date(2026, 4, day), end=dt.date(2026, 4, day))["totals"]["sent"]

    assert (sent_on(2), sent_on(3)) == (3, 1)
    assert campaign_report(campaign.pk)["totals"]["sent"] == 4
    rollup_fold()
    assert campaign_report(campaign.pk)["totals"]["sent"] == 4
    rollup_rebuild()
    assert campaign_report(campaign.pk)["totals"]["sent"] == 4


def test_a_delivery_sent_after_the_last_fold_is_counted_by_the_next_one():
    campaign = CampaignFactory()
    sent_delivery(campaign, at(2), 1)
    rollup_fold()
    sent_delivery(campaign, at(2, 13), 2)
    rollup_fold()
    assert campaign_report(campaign.pk)["totals"]["sent"] == 2


def test_an_open_counts_once_though_the_delivery_also_counts_it():
    campaign = CampaignFactory()
    delivery = sent_delivery(campaign, at(2), 1)
    delivery_record_open(delivery=delivery)
    delivery_record_open(delivery=delivery)
    rollup_fold()
    totals = campaign_report(campaign.pk)["totals"]
    assert (totals["opens"], totals["unique_opens"]) == (2, 1)
    assert EmailDelivery.objects.get(pk=delivery.pk).open_count == 2


def test_spend_is_read_from_metric_snapshots_not_from_the_campaign_total():
    job = JobFactory()
    Campaign.objects.filter(pk=job.campaign_id).update(spend=Decimal("500.00"), bid_settings={"max_cpc": "2.00"})
    MetricSnapshot.objects.create(job=job, taken_at=at(2), impressions=100, clicks=4, spend=Decimal("60.00"))
    rollup_fold()
    assert campaign_report(job.campaign_id)["totals"]["spend"] == Decimal("60.00")


def test_asset_performance_per_channel_campaign_and_day_is_set_on_each_fold(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    job = JobFactory()
    photo, video_still = AssetFactory(), AssetFactory()
    job.version.media.add(photo, video_still)
    unused = AssetFactory()
    for day, impressions, clicks, conversions in [(1, 100, 4, 0), (2, 250, 10, 1), (2, 90, 10, 1)]:
        # The day-2 correction downwards (90 after 250 the same day) is the day's last word.
        MetricSnapshot.objects.create(job=job, taken_at=at(day, 8 if impressions == 250 else 20),
                                      impressions=impressions, clicks=clicks, conversions=conversions)

    rollup_fold()

    def figures():
        return sorted((p.asset_id, p.channel, p.campaign_id, p.day.day, p.impressions, p.clicks, p.conversions)
                      for p in AssetPerformance.objects.all())

    slug = job.channel.slug[:40]
    assert figures() == sorted([
        (photo.pk, slug, job.campaign_id, 1, 100, 4, 0), (photo.pk, slug, job.campaign_id, 2, 0, 6, 1),
        (video_still.pk, slug, job.campaign_id, 1, 100, 4, 0), (video_still.pk, slug, job.campaign_id, 2, 0, 6, 1),
    ])
    assert not AssetPerformance.objects.filter(asset=unused).exists()
    MetricSnapshot.objects.create(job=job, taken_at=at(3), impressions=150, clicks=12, conversions=1)
    rollup_fold()
    rollup_fold()
    assert AssetPerformance.objects.count() == 6
    assert AssetPerformance.objects.get(asset=photo, day=dt.date(2026, 4, 3)).impressions == 60


def test_asset_performance_of_an_asset_taken_off_the_version_is_deleted_on_the_next_fold(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    job = JobFactory()
    kept, removed = AssetFactory(), AssetFactory()
    job.version.media.add(kept, removed)
    MetricSnapshot.objects.create(job=job, taken_at=at(1), impressions=100, clicks=4)
    rollup_fold()
    assert set(AssetPerformance.objects.values_list("asset_id", flat=True)) == {kept.pk, removed.pk}

    job.version.media.remove(removed)
    rollup_fold()

    assert list(AssetPerformance.objects.values_list("asset_id", "impressions")) == [(kept.pk, 100)]
    job.version.media.remove(kept)
    rollup_rebuild()
    assert not AssetPerformance.objects.exists()
