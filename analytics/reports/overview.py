"""The dashboard's overview: KPIs with their change, top campaigns and channels, score tiers."""

import datetime as dt

from analytics.models import ScoreTierCount
from analytics.reports.cache import fold_cached, fold_state
from analytics.reports.measures import derived, empty_totals, regrouped, summed_periods
from analytics.services.rollups import lag_since
from publishing.models import Campaign

# The home page's "this week": the figures a marketer checks first.
WEEK_KPIS = ("sent", "opens", "clicks", "conversions", "revenue")
KPIS = ("sent", "opens", "clicks", "conversions", "revenue", "impressions", "spend", "open_rate",
        "click_through_rate", "roi")


def _kpis(totals: dict) -> dict:
    values = {**totals, **derived(totals)}
    return {k: values[k] for k in KPIS}


# What the top campaigns are ranked and shown by: only these are summed per campaign.
CAMPAIGN_MEASURES = ("revenue", "conversions", "clicks")


def _rollup_part(start, end, previous_start, previous_end, top: int) -> dict:
    """KPIs, their previous period and the top channels from one read of the roll-ups by channel, the top
    campaigns from a second of three measures by campaign. One read by campaign and channel gave a few
    thousand rows of fifteen sums at 500 campaigns, and adding them up again in Python took longer than
    PostgreSQL took to sum them (bench analytics_rollups)."""
    found = summed_periods(periods={"current": (start, end), "previous": (previous_start, previous_end)},
                           group_by=("channel",))
    current = _kpis(regrouped(found["current"], ()).get((), empty_totals()))
    previous = _kpis(regrouped(found["previous"], ()).get((), empty_totals()))
    kpis = []
    for key in KPIS:
        value, before = current[key], previous[key]
        change = None if value is None or not before else (float(value) - float(before)) / float(before)
        kpis.append({"metric": key, "value": value, "previous": before, "change": change})

    by_campaign = summed_periods(periods={"current": (start, end)}, group_by=("campaign_id",),
                                 measures=CAMPAIGN_MEASURES)["current"]
    names = dict(Campaign.objects.filter(pk__in=[cid for (cid,) in by_campaign if cid]).values_list("id", "name"))
    campaigns = sorted(
        ({"campaign_id": cid, "name": names[cid], "revenue": t["revenue"], "conversions": t["conversions"],
          "clicks": t["clicks"]} for (cid,), t in by_campaign.items() if cid in names),
        key=lambda row: (-row["revenue"], -row["conversions"], -row["clicks"], row["name"]),
    )[:top]
    channels = sorted(
        ({"channel": ch or "(none)", "clicks": t["clicks"], "conversions": t["conversions"], "revenue": t["revenue"]}
         for (ch,), t in found["current"].items()),
        key=lambda row: (-row["conversions"], -row["clicks"], row["channel"]),
    )[:top]
    return {"kpis": kpis, "top_campaigns": campaigns, "top_channels": channels}


def _previous(start: dt.date, end: dt.date) -> tuple[dt.date, dt.date]:
    previous_end = start - dt.timedelta(days=1)
    return previous_end - (end - start), previous_end


def _rolled(start: dt.date, end: dt.date, top: int, **checkpoint) -> dict:
    previous_start, previous_end = _previous(start, end)
    # Cached whole (a few dozen values), not the thousands of campaign × channel sums behind it.
    return fold_cached("overview", lambda: _rollup_part(start, end, previous_start, previous_end, top),
                       start=start, end=end, top=top, **checkpoint)


def week_figures(*, today: dt.date) -> dict:
    """The last seven days against the seven before, from the roll-ups (shares the overview's cache)."""
    start = today - dt.timedelta(days=6)
    kpis = [kpi for kpi in _rolled(start, today, 5)["kpis"] if kpi["metric"] in WEEK_KPIS]
    return {"start": start, "end": today, "kpis": kpis}


def overview(*, start: dt.date, end: dt.date, top: int = 5) -> dict:
    previous_start, previous_end = _previous(start, end)
    # Read once for both the cache key and the lag.
    checkpoint = fold_state()
    rolled = _rolled(start, end, top, checkpoint=checkpoint)
    tiers = dict(ScoreTierCount.objects.values_list("tier", "contacts"))
    return {
        "start": start, "end": end, "previous_start": previous_start, "previous_end": previous_end,
        **rolled,
        "score_tiers": {tier: tiers.get(tier, 0) for tier in ("high", "medium", "low", "inactive")},
        "rollup_lag": lag_since(checkpoint),
    }
