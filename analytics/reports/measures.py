"""The base measures every report sums, and the rates derived from them.

A rate whose denominator is zero is None (shown as "n/a"): never 0, never an error.
"""

import datetime as dt
import operator
from dataclasses import dataclass
from decimal import Decimal
from functools import reduce
from itertools import pairwise

from django.db.models import Case, CharField, DecimalField, F, IntegerField, Q, Sum, Value, When

from analytics.models import CampaignChannelDay, ChannelDay, ContentChannelDay, MetricHour
from analytics.reports.cache import fold_cached

EVENT_MEASURES = ("sent", "delivered", "opens", "clicks", "replies", "bounces", "unsubscribes", "complaints",
                  "page_views", "form_submits", "conversions", "revenue")
POST_MEASURES = ("impressions", "clicks", "engagements", "conversions", "spend")
BASE_MEASURES = ("sent", "delivered", "opens", "clicks", "replies", "bounces", "unsubscribes", "complaints",
                 "page_views", "form_submits", "conversions", "revenue", "impressions", "engagements", "spend")


def ratio(numerator, denominator) -> float | None:
    if not denominator:
        return None
    return float(numerator) / float(denominator)


@dataclass(frozen=True)
class Metric:
    key: str
    label: str
    kind: str  # count, money or rate

    def format(self, value) -> str:
        if value is None:
            return "n/a"
        if self.kind == "rate":
            return f"{value * 100:.1f}%"
        if self.kind == "money":
            return f"{Decimal(value):,.2f}"
        return f"{int(value):,}"


def derived(totals: dict) -> dict:
    """Rates and costs from summed measures (and `reach` when the caller knows it)."""
    delivered = totals["delivered"] or max(totals["sent"] - totals["bounces"], 0)
    exposures = totals["impressions"] + delivered
    spend, revenue = Decimal(totals["spend"]), Decimal(totals["revenue"])
    reach = totals.get("reach")
    return {
        "open_rate": ratio(totals.get("unique_opens", totals["opens"]), delivered),
        "click_through_rate": ratio(totals["clicks"], exposures),
        "engagement_rate": ratio(totals["clicks"] + totals["replies"] + totals["engagements"], exposures),
        "conversion_rate": ratio(totals["conversions"], totals["clicks"]),
        "bounce_rate": ratio(totals["bounces"], totals["sent"]),
        "unsubscribe_rate": ratio(totals["unsubscribes"], delivered),
        "cost_per_click": ratio(spend, totals["clicks"]),
        "cost_per_acquisition": ratio(spend, totals["conversions"]),
        "cost_per_contact": ratio(spend, reach) if reach is not None else None,
        "return_on_ad_spend": ratio(revenue, spend),
        "roi": ratio(revenue - spend, spend),
    }


METRICS = {m.key: m for m in [
    Metric("sent", "Sent", "count"), Metric("delivered", "Delivered", "count"), Metric("opens", "Opens", "count"),
    Metric("clicks", "Clicks", "count"), Metric("replies", "Replies", "count"), Metric("bounces", "Bounces", "count"),
    Metric("unsubscribes", "Unsubscribes", "count"), Metric("complaints", "Complaints", "count"),
    Metric("page_views", "Page views", "count"), Metric("form_submits", "Form submits", "count"),
    Metric("conversions", "Conversions", "count"), Metric("revenue", "Revenue", "money"),
    Metric("impressions", "Impressions", "count"), Metric("engagements", "Engagements", "count"),
    Metric("spend", "Spend", "money"), Metric("reach", "Reach", "count"),
    Metric("unique_opens", "Unique opens", "count"),
    Metric("open_rate", "Open rate", "rate"), Metric("click_through_rate", "Click-through rate", "rate"),
    Metric("engagement_rate", "Engagement rate", "rate"), Metric("conversion_rate", "Conversion rate", "rate"),
    Metric("bounce_rate", "Bounce rate", "rate"), Metric("unsubscribe_rate", "Unsubscribe rate", "rate"),
    Metric("cost_per_click", "Cost per click", "money"),
    Metric("cost_per_acquisition", "Cost per acquisition", "money"),
    Metric("cost_per_contact", "Cost per contact", "money"),
    Metric("return_on_ad_spend", "Return on ad spend", "rate"), Metric("roi", "ROI", "rate"),
]}


def empty_totals() -> dict:
    return {m: (Decimal("0") if m in ("revenue", "spend") else 0) for m in BASE_MEASURES}


MONEY = ("revenue", "spend")


def measure_sum(model, measure: str):
    """Sum of one measure in one roll-up (0 where that roll-up does not have it)."""
    of_events = model in (CampaignChannelDay, ChannelDay)
    if of_events and measure == "sent":
        expression = F("sent") + F("emails_sent")
    elif measure in (EVENT_MEASURES if of_events else POST_MEASURES):
        expression = F(measure)
    else:
        expression = Value(0, output_field=DecimalField() if measure in MONEY else IntegerField())
    return Sum(expression)


def summed_periods(*, periods: dict[str, tuple], campaign_ids=None, group_by: tuple[str, ...] = (),
                   measures: tuple[str, ...] = BASE_MEASURES) -> dict:
    """Base measures from both roll-ups for several disjoint periods in one query (a UNION ALL of
    one aggregate per roll-up, grouped by period too: plain sums, not one filtered sum per period
    and measure, which costs the database several times more): {period: {group_by values: totals}}.
    Only `measures` are summed (the others stay 0): each sum costs the database and Python per row."""
    spans = sorted(periods.values())
    if any(later[0] <= earlier[1] for earlier, later in pairwise(spans)):
        raise ValueError("Periods summed together must not overlap.")
    in_period = Case(*[When(day__gte=start, day__lte=end, then=Value(name)) for name, (start, end) in periods.items()],
                     output_field=CharField())
    # Every campaign together is read from the channel roll-up: a 30-day period is 120 rows there against
    # 60,000 at 500 campaigns.
    by_channel = campaign_ids is None and set(group_by) <= {"channel", "day"}
    querysets = []
    for model in (ChannelDay if by_channel else CampaignChannelDay, ContentChannelDay):
        rows = model.objects.filter(reduce(operator.or_, (Q(day__gte=start, day__lte=end) for start, end in spans)))
        if campaign_ids is not None:
            rows = rows.filter(campaign_id__in=campaign_ids)
        querysets.append(rows.annotate(rollup_period=in_period).values("rollup_period", *group_by)
                         .annotate(**{measure: measure_sum(model, measure) for measure in measures}).order_by())
    found: dict[str, dict[tuple, dict]] = {name: {} for name in periods}
    for row in querysets[0].union(querysets[1], all=True):
        groups, key = found[row["rollup_period"]], tuple(row[g] for g in group_by)
        totals = groups.get(key)
        if totals is None:  # not setdefault: it would build a fresh empty dict for every row
            totals = groups[key] = empty_totals()
        for measure in measures:
            totals[measure] += row[measure] or 0
    if not group_by:
        for name in periods:
            found[name].setdefault((), empty_totals())
    return found


def rolled_up(*, periods: dict[str, tuple], campaign_ids=None, group_by: tuple[str, ...] = (),
              measures: tuple[str, ...] = BASE_MEASURES) -> dict:
    """summed_periods, cached until the next fold (see reports.cache)."""
    ids = None if campaign_ids is None else tuple(sorted(campaign_ids))
    return fold_cached(
        "summed", lambda: summed_periods(periods=periods, campaign_ids=ids, group_by=group_by, measures=measures),
        periods=tuple(sorted(periods.items())), campaign_ids=ids, group_by=group_by, measures=measures,
    )


def hourly_rolled_up(first_day: dt.date, last_day: dt.date) -> dict[tuple[dt.date, int], dict]:
    """Base measures of every campaign and channel together, by hour of the team's wall clock, from the
    hourly roll-up: {(day, hour): totals}, cached until the next fold. Measures only the channels'
    daily snapshots give (impressions, engagements, spend) are 0."""
    def compute():
        found = {}
        for row in MetricHour.objects.filter(day__gte=first_day, day__lte=last_day).values(
                "day", "hour", "emails_sent", *EVENT_MEASURES):
            totals = empty_totals()
            totals.update({measure: row[measure] for measure in EVENT_MEASURES})
            totals["sent"] += row["emails_sent"]
            found[(row["day"], row["hour"])] = totals
        return found

    return fold_cached("hourly", compute, first_day=first_day, last_day=last_day)


def whole_period(start=None, end=None) -> tuple[dt.date, dt.date]:
    """The period from start to end, open on the side not given."""
    return start or dt.date.min, end or dt.date.max


def summed(*, start=None, end=None, campaign_ids=None, group_by: tuple[str, ...] = ()) -> dict:
    """Base measures summed from both roll-ups, keyed by the group_by values (() → one total)."""
    return rolled_up(periods={"period": whole_period(start, end)}, campaign_ids=campaign_ids,
                     group_by=group_by)["period"]


def regrouped(groups: dict[tuple, dict], positions: tuple[int, ...]) -> dict[tuple, dict]:
    """Totals keyed by a finer grouping added up to a coarser one (the key parts at `positions`)."""
    coarser: dict[tuple, dict] = {}
    for key, totals in groups.items():
        coarse_key = tuple(key[p] for p in positions)
        target = coarser.get(coarse_key)
        if target is None:
            target = coarser[coarse_key] = empty_totals()
        for measure in BASE_MEASURES:
            target[measure] += totals[measure]
    return coarser
