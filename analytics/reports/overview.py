"""The dashboard's overview: KPIs with their change, top campaigns and channels, score tiers."""

import datetime as dt
from decimal import Decimal

from django.db import connection

from analytics.models import CampaignChannelDay, ContentChannelDay, ScoreTierCount
from analytics.reports.cache import fold_cached, fold_state
from analytics.reports.measures import derived, empty_totals, measure_sum, regrouped, summed_periods
from crm.models import EngagementEvent
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
TIERS = ("high", "medium", "low", "inactive")
CENT = Decimal("0.01")


def _top_campaigns(start: dt.date, end: dt.date, top: int) -> list[dict]:
    """The campaigns with the most revenue (then conversions, clicks, name) over the period, from both
    roll-ups, ranked and cut to `top` by the database with their names: every campaign's sums and names
    read into Python and sorted there took most of an uncached overview at 500 campaigns (bench/NOTES.md)."""
    parts, params = [], []
    for alias, model in (("e", CampaignChannelDay), ("p", ContentChannelDay)):
        sql, part_params = (model.objects.filter(day__gte=start, day__lte=end).values("campaign_id")
                            .annotate(**{m: measure_sum(model, m) for m in CAMPAIGN_MEASURES}).order_by()
                            .query.sql_with_params())
        parts.append(f"SELECT {', '.join(f'{alias}.{c}' for c in ('campaign_id', *CAMPAIGN_MEASURES))} "
                     f"FROM ({sql}) {alias}")
        params += part_params
    campaign = connection.ops.quote_name(Campaign._meta.db_table)
    sql = (f"SELECT s.campaign_id, c.name, SUM(s.revenue), SUM(s.conversions), SUM(s.clicks) "
           f"FROM ({' UNION ALL '.join(parts)}) s JOIN {campaign} c ON c.id = s.campaign_id "
           f"GROUP BY s.campaign_id, c.name ORDER BY 3 DESC, 4 DESC, 5 DESC, c.name LIMIT %s")
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, top])
        rows = cursor.fetchall()
    # SQLite sums the money as a float; PostgreSQL keeps numeric's Decimal.
    return [{"campaign_id": cid, "name": name,
             "revenue": revenue if isinstance(revenue, Decimal) else Decimal(str(revenue or 0)).quantize(CENT),
             "conversions": conversions or 0, "clicks": clicks or 0}
            for cid, name, revenue, conversions, clicks in rows]


def _rollup_part(start, end, previous_start, previous_end, top: int) -> dict:
    """KPIs, their previous period and the top channels from one read of the roll-ups by channel, the top
    campaigns from a second of three measures ranked by campaign. One read by campaign and channel gave a few
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

    campaigns = _top_campaigns(start, end, top)
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


def overview_live_state() -> tuple[tuple | None, dict, dict]:
    """The fold checkpoint, the tier counts and the roll-up's lag (overview_shown)."""
    checkpoint = fold_state()
    return (checkpoint, *overview_shown(checkpoint))


def overview_shown(checkpoint: tuple | None) -> tuple[dict, dict]:
    """The tier counts and the roll-up's lag behind `checkpoint` (its events not folded yet), in one query: a
    cached overview reads nothing else from the database (under load every round trip waits its turn). The
    checkpoint comes as a value: read in the same statement, PostgreSQL estimated "id above a checkpoint it
    does not know yet" at a third of the events and compiled the statement with JIT for 40 ms (EXPLAIN
    ANALYZE, bench/NOTES.md)."""
    quote = connection.ops.quote_name
    events = quote(EngagementEvent._meta.db_table)
    tier_counts = ", ".join(f"(SELECT contacts FROM {quote(ScoreTierCount._meta.db_table)} WHERE tier = %s)"
                            for _ in TIERS)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT (SELECT COUNT(*) FROM {events} WHERE {events}.{quote('id')} > %s), {tier_counts}",
                       [checkpoint[0] if checkpoint else 0, *TIERS])
        pending, *counts = cursor.fetchone()
    return ({tier: count or 0 for tier, count in zip(TIERS, counts, strict=True)},
            {"pending_events": pending, "folded_at": checkpoint[1] if checkpoint else None})


def overview(*, start: dt.date, end: dt.date, top: int = 5, live: tuple | None = None) -> dict:
    """`live`: what overview_live_state() gave, when the caller has read it already."""
    previous_start, previous_end = _previous(start, end)
    checkpoint, tiers, lag = live or overview_live_state()
    rolled = _rolled(start, end, top, checkpoint=checkpoint)
    return {
        "start": start, "end": end, "previous_start": previous_start, "previous_end": previous_end,
        **rolled, "score_tiers": tiers, "rollup_lag": lag,
    }
