"""Channels ranked by a metric over a period, with a minimum sample so that a channel with three
impressions never tops the list."""

from analytics import conf
from analytics.reports.measures import METRICS, derived, summed


def _sample(totals: dict) -> int:
    delivered = totals["delivered"] or max(totals["sent"] - totals["bounces"], 0)
    return totals["impressions"] + delivered


def channel_ranking(*, metric: str, start=None, end=None, minimum_sample: int | None = None) -> dict:
    if metric not in METRICS:
        raise ValueError(f"Unknown metric {metric!r}; choose one of {', '.join(sorted(METRICS))}.")
    floor = conf.minimum_sample() if minimum_sample is None else minimum_sample
    ranked, too_small = [], []
    for (channel,), totals in summed(start=start, end=end, group_by=("channel",)).items():
        row = {"channel": channel or "(none)", **totals, **derived(totals), "sample": _sample(totals)}
        (ranked if row["sample"] >= floor else too_small).append(row)
    ranked.sort(key=lambda r: (r[metric] is None, -(r[metric] or 0), r["channel"]))
    for position, row in enumerate(ranked, start=1):
        row["rank"] = position
    too_small.sort(key=lambda r: r["channel"])
    return {"metric": metric, "minimum_sample": floor, "ranked": ranked, "below_minimum_sample": too_small}
