import datetime as dt
from decimal import Decimal

import pytest

from analytics.reports import attribution, campaign_report, channel_ranking, cohorts, overview, trend
from analytics.reports.measures import summed_periods
from analytics.services import rollup_fold
from crm.tests.factories import ContactFactory, EngagementEventFactory
from publishing.models import MetricSnapshot
from publishing.tests.factories import CampaignFactory, JobFactory

pytestmark = pytest.mark.django_db
UTC = dt.UTC


def at(month: int, day: int, hour: int = 12) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, tzinfo=UTC)


def event(contact, kind, when, campaign=None, channel="email", value=None):
    return EngagementEventFactory(contact=contact, kind=kind, occurred_at=when, channel=channel, value=value,
                                  campaign_id=campaign.pk if campaign else None)


def test_campaign_without_data_reports_zero_counts_and_na_rates():
    campaign = CampaignFactory()
    rollup_fold()
    report = campaign_report(campaign.pk)
    totals = report["totals"]
    assert totals["sent"] == 0 and totals["reach"] == 0
    for rate in ("open_rate", "click_through_rate", "conversion_rate", "cost_per_click", "roi",
                 "return_on_ad_spend", "cost_per_contact"):
        assert totals[rate] is None, rate
    assert report["channels"] == []
    assert report["budget_used"] is None


def test_campaign_report_hand_computed():
    campaign = CampaignFactory(budget=Decimal("200"))
    ann, bob = ContactFactory(), ContactFactory()
    for contact in (ann, bob):
        event(contact, "sent", at(3, 1), campaign)
        event(contact, "delivered", at(3, 1), campaign)
    event(ann, "opened", at(3, 1), campaign)
    event(ann, "opened", at(3, 2), campaign)  # a second open by the same person
    event(ann, "clicked", at(3, 2), campaign)
    event(ann, "converted", at(3, 3), campaign, value=Decimal("120.00"))
    job = JobFactory(campaign=campaign)
    MetricSnapshot.objects.create(job=job, taken_at=at(3, 2), impressions=1000, clicks=19, spend=Decimal("60.00"))
    rollup_fold()

    report = campaign_report(campaign.pk)
    t = report["totals"]
    assert (t["sent"], t["delivered"], t["opens"], t["unique_opens"], t["reach"]) == (2, 2, 2, 1, 2)
    assert (t["clicks"], t["impressions"], t["conversions"], t["revenue"], t["spend"]) == (
        20, 1000, 1, Decimal("120.00"), Decimal("60.00"))
    assert t["open_rate"] == pytest.approx(1 / 2)
    assert t["click_through_rate"] == pytest.approx(20 / 1002)
    assert t["conversion_rate"] == pytest.approx(1 / 20)
    assert t["cost_per_click"] == pytest.approx(3.0)
    assert t["cost_per_acquisition"] == pytest.approx(60.0)
    assert t["cost_per_contact"] == pytest.approx(30.0)
    assert t["return_on_ad_spend"] == pytest.approx(2.0)
    assert t["roi"] == pytest.approx(1.0)
    assert report["budget_used"] == pytest.approx(0.3)
    by_channel = {row["channel"]: row for row in report["channels"]}
    assert by_channel["email"]["clicks"] == 1 and by_channel["email"]["spend"] == 0
    assert by_channel[job.channel.slug]["clicks"] == 19
    assert by_channel[job.channel.slug]["cost_per_click"] == pytest.approx(60 / 19)


def test_channel_ranking_needs_a_minimum_sample():
    big, tiny = JobFactory(), JobFactory()
    MetricSnapshot.objects.create(job=big, taken_at=at(4, 1), impressions=5000, clicks=50)
    MetricSnapshot.objects.create(job=tiny, taken_at=at(4, 1), impressions=3, clicks=3)
    rollup_fold()
    result = channel_ranking(metric="click_through_rate", minimum_sample=100)
    assert [row["channel"] for row in result["ranked"]] == [big.channel.slug]
    assert result["ranked"][0]["click_through_rate"] == pytest.approx(0.01)
    assert [row["channel"] for row in result["below_minimum_sample"]] == [tiny.channel.slug]
    with pytest.raises(ValueError, match="Unknown metric"):
        channel_ranking(metric="vibes")


def test_trend_by_day_and_week_with_change_against_previous_period():
    contact = ContactFactory()
    event(contact, "clicked", at(5, 4))  # previous period
    for day in (11, 11, 12, 17):
        event(contact, "clicked", at(5, day))
    rollup_fold()
    daily = trend(metric="clicks", interval="day", start=dt.date(2026, 5, 11), end=dt.date(2026, 5, 17))
    assert [p["value"] for p in daily["points"]] == [2, 1, 0, 0, 0, 0, 1]
    assert daily["total"] == 4 and daily["previous_total"] == 1 and daily["change"] == pytest.approx(3.0)
    weekly = trend(metric="clicks", interval="week", start=dt.date(2026, 5, 11), end=dt.date(2026, 5, 24))
    assert [(p["period"], p["value"]) for p in weekly["points"]] == [(dt.date(2026, 5, 11), 4),
                                                                      (dt.date(2026, 5, 18), 0)]
    rate = trend(metric="open_rate", interval="day", start=dt.date(2026, 5, 11), end=dt.date(2026, 5, 11))
    assert rate["points"][0]["value"] is None and rate["change"] is None


def test_cohorts_share_engaged_and_converted_by_month_after_acquisition():
    march = [ContactFactory() for _ in range(4)]
    for contact in march:
        type(contact).objects.filter(pk=contact.pk).update(created_at=at(3, 5))
    event(march[0], "opened", at(3, 20))
    event(march[1], "clicked", at(4, 2))
    event(march[1], "opened", at(4, 3))
    event(march[1], "converted", at(4, 9))
    result = cohorts(by="month", months=3, now=at(4, 15))
    (row,) = result["rows"]
    assert row["cohort"] == "2026-03" and row["size"] == 4
    assert row["months"][0] == {"engaged": 0.25, "converted": 0.0}
    assert row["months"][1] == {"engaged": 0.25, "converted": 0.25}
    assert row["months"][2] == {"engaged": None, "converted": None}  # May has not happened yet


@pytest.mark.parametrize(
    ("model", "expected"),
    [
        ("first_touch", {"A": 1.0, "B": 0.0}),
        ("last_touch", {"A": 0.0, "B": 1.0}),
        ("linear", {"A": 2 / 3, "B": 1 / 3}),
        ("position_based", {"A": 0.4 + 0.2, "B": 0.4}),
        ("time_decay", {"A": (0.25 + 0.5) / (0.25 + 0.5 + 1), "B": 1 / (0.25 + 0.5 + 1)}),
    ],
)
def test_attribution_models_split_one_conversion(model, expected):
    a, b = CampaignFactory(name="A"), CampaignFactory(name="B")
    contact = ContactFactory()
    converted = at(6, 20)
    event(contact, "clicked", converted - dt.timedelta(days=14), a)
    event(contact, "opened", converted - dt.timedelta(days=7), a)
    event(contact, "clicked", converted, b)
    event(contact, "clicked", converted - dt.timedelta(days=40), b)  # outside the 30-day window
    event(contact, "converted", converted, value=Decimal("90"))
    stranger = ContactFactory()
    event(stranger, "converted", converted, value=Decimal("10"))  # no touch at all

    result = attribution(model=model, start=dt.date(2026, 6, 1), end=dt.date(2026, 6, 30), lookback_days=30,
                         half_life_days=7)

    credited = {row["campaign"]: row["conversions"] for row in result["rows"]}
    assert credited.get("A", 0.0) == pytest.approx(expected["A"])
    assert credited.get("B", 0.0) == pytest.approx(expected["B"])
    assert credited["unattributed"] == 1.0
    assert sum(row["conversions"] for row in result["rows"]) == pytest.approx(result["conversions"]) == 2
    assert sum(row["revenue"] for row in result["rows"]) == pytest.approx(Decimal("100"), abs=Decimal("0.02"))


def test_overview_kpis_change_and_top_lists():
    campaign = CampaignFactory(name="Launch")
    contact = ContactFactory()
    event(contact, "clicked", at(7, 1), campaign)
    event(contact, "clicked", at(7, 8), campaign)
    event(contact, "clicked", at(7, 9), campaign)
    event(contact, "converted", at(7, 9), campaign, value=Decimal("50"))
    rollup_fold()
    result = overview(start=dt.date(2026, 7, 8), end=dt.date(2026, 7, 14))
    kpis = {k["metric"]: k for k in result["kpis"]}
    assert kpis["clicks"]["value"] == 2 and kpis["clicks"]["previous"] == 1
    assert kpis["clicks"]["change"] == pytest.approx(1.0)
    assert kpis["revenue"]["previous"] == 0 and kpis["revenue"]["change"] is None
    assert result["top_campaigns"][0]["name"] == "Launch"
    assert result["rollup_lag"]["pending_events"] == 0


def test_overview_ranks_the_top_campaigns_by_revenue_then_conversions_clicks_and_name():
    contact = ContactFactory()
    for name, revenue, clicks in (("Zeta", "90", 1), ("Beta", "10", 2), ("Alpha", "10", 2), ("Gamma", "10", 5)):
        campaign = CampaignFactory(name=name)
        event(contact, "converted", at(7, 9), campaign, value=Decimal(revenue))
        for _ in range(clicks):
            event(contact, "clicked", at(7, 9), campaign)
    rollup_fold()
    top = overview(start=dt.date(2026, 7, 8), end=dt.date(2026, 7, 14), top=3)["top_campaigns"]
    assert [(c["name"], c["revenue"], c["conversions"], c["clicks"]) for c in top] == [
        ("Zeta", Decimal("90.00"), 1, 1), ("Gamma", Decimal("10.00"), 1, 5), ("Alpha", Decimal("10.00"), 1, 2)]


def test_cohorts_by_source_start_at_first_activity():
    for source in ("webinar", "webinar", "import"):
        ContactFactory(source=source)
    webinar = ContactFactory(source="webinar")
    event(webinar, "converted", at(2, 10))
    result = cohorts(by="source", months=2, now=at(3, 1))
    rows = {row["cohort"]: row for row in result["rows"]}
    assert rows["webinar"]["size"] == 3
    assert rows["webinar"]["months"][0] == {"engaged": 0.0, "converted": pytest.approx(1 / 3)}
    assert rows["webinar"]["months"][1] == {"engaged": 0.0, "converted": 0.0}
    assert rows["import"]["months"][0] == {"engaged": None, "converted": None}


def test_summing_some_measures_gives_them_as_summing_all_does_and_leaves_the_rest_at_zero():
    campaign, contact = CampaignFactory(), ContactFactory()
    event(contact, "clicked", at(8, 3), campaign)
    event(contact, "clicked", at(8, 3), campaign)
    event(contact, "converted", at(8, 3), campaign, value=Decimal("50"))
    rollup_fold()
    period = {"august": (dt.date(2026, 8, 1), dt.date(2026, 8, 31))}
    every = summed_periods(periods=period, group_by=("campaign_id",))["august"][(campaign.pk,)]
    some = summed_periods(periods=period, group_by=("campaign_id",),
                          measures=("clicks", "revenue"))["august"][(campaign.pk,)]
    assert (some["clicks"], some["revenue"]) == (every["clicks"], every["revenue"]) == (2, Decimal("50"))
    assert (some["conversions"], every["conversions"]) == (0, 1)
