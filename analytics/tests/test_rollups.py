import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from analytics.models import CampaignChannelDay, ChannelDay, MetricHour
from analytics.services import rollup_fold, rollup_rebuild
from analytics.services.rollups import rollup_lag
from crm.tests.factories import ContactFactory, EngagementEventFactory
from publishing.email.choices import DeliveryStatus
from publishing.tests.email.factories import EmailDeliveryFactory

pytestmark = pytest.mark.django_db
UTC = dt.UTC


def at(day: int, hour: int = 12) -> dt.datetime:
    return dt.datetime(2026, 3, day, hour, 0, tzinfo=UTC)


def table() -> dict:
    return {
        (r.campaign_id, r.channel, r.day): (r.sent, r.opens, r.clicks, r.conversions, r.revenue)
        for r in CampaignChannelDay.objects.all()
    }


def test_no_events_gives_an_empty_rollup():
    assert rollup_fold() == {"events_folded": 0, "up_to_id": 0, "post_days": 0, "email_days": 0,
                             "email_channel_days": 0, "email_hours": 0, "asset_days": 0}
    assert CampaignChannelDay.objects.count() == 0


def test_fold_counts_each_kind_per_campaign_channel_and_day():
    contact = ContactFactory()
    for kind in ("sent", "sent", "opened", "clicked"):
        EngagementEventFactory(contact=contact, kind=kind, campaign_id=7, channel="email", occurred_at=at(2))
    EngagementEventFactory(contact=contact, kind="converted", value=Decimal("49.90"), campaign_id=7,
                           channel="email", occurred_at=at(3))
    EngagementEventFactory(contact=contact, kind="opened", campaign_id=None, channel="", occurred_at=at(3))

    assert rollup_fold()["events_folded"] == 6

    assert table() == {
        (7, "email", dt.date(2026, 3, 2)): (2, 1, 1, 0, Decimal("0")),
        (7, "email", dt.date(2026, 3, 3)): (0, 0, 0, 1, Decimal("49.90")),
        (0, "", dt.date(2026, 3, 3)): (0, 1, 0, 0, Decimal("0")),
    }


def test_a_refund_takes_revenue_back_without_counting_as_a_conversion():
    contact = ContactFactory()
    EngagementEventFactory(contact=contact, kind="converted", value=Decimal("100.00"), channel="stripe",
                           occurred_at=at(4))
    EngagementEventFactory(contact=contact, kind="converted", value=Decimal("-30.00"), channel="stripe",
                           occurred_at=at(4, 15))
    rollup_fold()
    assert table() == {(0, "stripe", dt.date(2026, 3, 4)): (0, 0, 0, 1, Decimal("70.00"))}


def test_fold_is_incremental_and_idempotent_and_matches_a_rebuild():
    contact = ContactFactory()
    EngagementEventFactory(contact=contact, kind="opened", campaign_id=1, occurred_at=at(5))
    rollup_fold()
    # A late-arriving event for an earlier day lands on that day.
    EngagementEventFactory(contact=contact, kind="opened", campaign_id=1, occurred_at=at(1))
    EngagementEventFactory(contact=contact, kind="opened", campaign_id=1, occurred_at=at(5))
    assert rollup_fold()["events_folded"] == 2
    assert rollup_fold()["events_folded"] == 0
    folded = table()
    assert folded[(1, "email", dt.date(2026, 3, 5))][1] == 2
    assert folded[(1, "email", dt.date(2026, 3, 1))][1] == 1

    rollup_rebuild()
    assert table() == folded


def channel_days() -> dict:
    return {(r.channel, r.day): (r.sent, r.emails_sent, r.opens, r.clicks, r.conversions, r.revenue)
            for r in ChannelDay.objects.all()}


def campaign_days_added_up() -> dict:
    added: dict = {}
    for r in CampaignChannelDay.objects.all():
        row = (r.sent, r.emails_sent, r.opens, r.clicks, r.conversions, r.revenue)
        before = added.get((r.channel, r.day), (0, 0, 0, 0, 0, Decimal("0")))
        added[(r.channel, r.day)] = tuple(x + y for x, y in zip(before, row, strict=True))
    return added


def test_the_channel_roll_up_is_the_campaign_roll_up_added_up_and_matches_a_rebuild():
    contact = ContactFactory()
    EngagementEventFactory(contact=contact, kind="opened", campaign_id=1, occurred_at=at(5))
    EngagementEventFactory(contact=contact, kind="clicked", campaign_id=2, occurred_at=at(5))
    EngagementEventFactory(contact=contact, kind="opened", campaign_id=None, channel="", occurred_at=at(5))
    EmailDeliveryFactory(status=DeliveryStatus.SENT, sent_at=at(5), message_id="<c1@x>")
    rollup_fold()
    EngagementEventFactory(contact=contact, kind="opened", campaign_id=2, occurred_at=at(5))
    EngagementEventFactory(contact=contact, kind="converted", value=Decimal("40"), campaign_id=3, channel="x",
                           occurred_at=at(1))
    assert rollup_fold()["events_folded"] == 2
    folded = channel_days()
    assert folded == campaign_days_added_up()
    assert folded[("email", dt.date(2026, 3, 5))] == (0, 1, 2, 1, 0, Decimal("0"))
    assert folded[("x", dt.date(2026, 3, 1))] == (0, 0, 0, 0, 1, Decimal("40"))

    rollup_rebuild()
    assert channel_days() == folded


def test_the_channel_roll_up_added_later_is_filled_by_the_next_fold():
    contact = ContactFactory()
    EngagementEventFactory(contact=contact, kind="opened", campaign_id=1, occurred_at=at(5))
    rollup_fold()
    ChannelDay.objects.all().delete()  # as before the channel roll-up existed
    EngagementEventFactory(contact=contact, kind="clicked", campaign_id=2, occurred_at=at(5))
    assert rollup_fold()["events_folded"] == 1
    assert channel_days() == {("email", dt.date(2026, 3, 5)): (0, 0, 1, 1, 0, Decimal("0"))}


def hours() -> dict:
    return {(r.day, r.hour): (r.sent, r.emails_sent, r.opens, r.clicks, r.conversions, r.revenue)
            for r in MetricHour.objects.all()}


def test_the_hourly_roll_up_folds_the_same_events_by_the_team_s_hour_and_matches_a_rebuild(settings):
    settings.TIME_ZONE = "Europe/Paris"
    contact = ContactFactory()
    EngagementEventFactory(contact=contact, kind="opened", campaign_id=1, occurred_at=at(5, hour=9))
    EngagementEventFactory(contact=contact, kind="clicked", campaign_id=2, channel="x", occurred_at=at(5, hour=9))
    rollup_fold()
    EngagementEventFactory(contact=contact, kind="opened", campaign_id=2, occurred_at=at(5, hour=9))
    EngagementEventFactory(contact=contact, kind="converted", value=Decimal("40"), occurred_at=at(5, hour=23))
    rollup_fold()
    # 09:00 UTC is 10:00 in Paris in March (UTC+1); 23:00 UTC is the next day's midnight there. Every
    # campaign and channel is in the one hour.
    folded = hours()
    assert folded == {(dt.date(2026, 3, 5), 10): (0, 0, 2, 1, 0, Decimal("0")),
                      (dt.date(2026, 3, 6), 0): (0, 0, 0, 0, 1, Decimal("40"))}
    rollup_rebuild()
    assert hours() == folded


def test_the_hourly_roll_up_added_later_is_filled_by_the_next_fold():
    contact = ContactFactory()
    EngagementEventFactory(contact=contact, kind="opened", campaign_id=1, occurred_at=at(5))
    rollup_fold()
    MetricHour.objects.all().delete()  # as before the hourly roll-up existed
    assert rollup_fold()["events_folded"] == 0
    assert hours() == {(dt.date(2026, 3, 5), 12): (0, 0, 1, 0, 0, Decimal("0"))}


def test_the_team_time_zone_decides_the_day(settings):
    settings.TIME_ZONE = "America/New_York"
    contact = ContactFactory()
    # 02:00 UTC on 10 March is still 9 March in New York (UTC-4 after the DST switch on 8 March).
    EngagementEventFactory(contact=contact, kind="clicked", campaign_id=3, occurred_at=at(10, hour=2))
    rollup_fold()
    (row,) = CampaignChannelDay.objects.all()
    assert row.day == dt.date(2026, 3, 9)
    local = at(10, hour=2).astimezone(ZoneInfo("America/New_York"))
    assert local.date() == row.day


def test_rebuild_reports_progress_and_lag_is_zero_after_it():
    contact = ContactFactory()
    # Ids of their own, from 1: the rebuild reads every id from 0 to the highest, a chunk at a time, and on
    # PostgreSQL the id sequence keeps what every earlier test took.
    for day in range(1, 6):
        EngagementEventFactory(id=day, contact=contact, kind="sent", campaign_id=2, occurred_at=at(day))
    seen = []
    rollup_rebuild(progress=lambda done, total: seen.append((done, total)), chunk_size=2)
    assert seen[-1][0] == seen[-1][1]
    assert len(seen) >= 2
    assert sum(r.sent for r in CampaignChannelDay.objects.all()) == 5
    assert rollup_lag()["pending_events"] == 0
    EngagementEventFactory(id=6, contact=contact, kind="sent", campaign_id=2, occurred_at=at(6))
    assert rollup_lag()["pending_events"] == 1


def test_post_metrics_become_daily_growth_per_content_and_channel():
    from analytics.models import ContentChannelDay
    from publishing.models import MetricSnapshot
    from publishing.tests.factories import JobFactory

    job = JobFactory()
    for day, hour, impressions, clicks, spend in [
        (1, 9, 100, 5, "10.00"),
        (1, 18, 250, 9, "20.00"),  # the day's last snapshot counts
        (2, 12, 400, 12, "25.00"),
        (4, 12, 400, 15, "25.00"),
    ]:
        MetricSnapshot.objects.create(job=job, taken_at=at(day, hour), impressions=impressions, clicks=clicks,
                                      spend=Decimal(spend))

    rollup_fold()

    rows = {
        r.day.day: (r.impressions, r.clicks, r.spend)
        for r in ContentChannelDay.objects.filter(content_id=job.content_id, channel=job.channel.slug,
                                                  campaign_id=job.campaign_id)
    }
    assert rows == {1: (250, 9, Decimal("20.00")), 2: (150, 3, Decimal("5.00")), 4: (0, 3, Decimal("0.00"))}
    rollup_fold()
    assert ContentChannelDay.objects.count() == 3
