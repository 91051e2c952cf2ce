"""Any metric by day or week over a period, with the change against the previous period."""

import datetime as dt

from analytics.reports.measures import BASE_MEASURES, METRICS, derived, empty_totals, regrouped, rolled_up

INTERVALS = ("day", "week")


def _buckets(start: dt.date, end: dt.date, interval: str) -> list[dt.date]:
    if interval == "day":
        return [start + dt.timedelta(days=n) for n in range((end - start).days + 1)]
    first = start - dt.timedelta(days=start.weekday())
    return [first + dt.timedelta(weeks=n) for n in range(((end - first).days // 7) + 1)]


def _bucket(day: dt.date, interval: str) -> dt.date:
    return day if interval == "day" else day - dt.timedelta(days=day.weekday())


def _value(metric: str, totals: dict):
    return totals[metric] if metric in totals else derived(totals)[metric]


def _measures_of(metric: str) -> tuple[str, ...]:
    """The base measures a metric needs: itself when it is one, every one for a rate (see derived)."""
    return (metric,) if metric in BASE_MEASURES else BASE_MEASURES


def trend(*, metric: str, interval: str, start: dt.date, end: dt.date, campaign_ids=None) -> dict:
    if metric not in METRICS or metric in ("reach", "unique_opens", "cost_per_contact"):
        raise ValueError(f"Metric {metric!r} has no daily trend; choose a count, money or rate metric.")
    if interval not in INTERVALS:
        raise ValueError(f"Interval must be one of {', '.join(INTERVALS)}.")
    if end < start:
        raise ValueError("The period ends before it starts.")
    length = (end - start).days + 1
    previous_end = start - dt.timedelta(days=1)
    previous_start = previous_end - dt.timedelta(days=length - 1)

    # One read of both periods by day; weeks and totals are added up here (a few hundred rows).
    found = rolled_up(periods={"current": (start, end), "previous": (previous_start, previous_end)},
                      campaign_ids=campaign_ids, group_by=("day",), measures=_measures_of(metric))
    by_bucket = regrouped({(day, _bucket(day, interval)): totals for (day,), totals in found["current"].items()},
                          (1,))
    series = {bucket: by_bucket.get((bucket,), empty_totals()) for bucket in _buckets(start, end, interval)}
    current = regrouped(found["current"], ()).get((), empty_totals())
    previous = regrouped(found["previous"], ()).get((), empty_totals())

    value, before = _value(metric, current), _value(metric, previous)
    change = None if before in (None, 0) or value is None else (float(value) - float(before)) / float(before)
    return {
        "metric": metric, "label": METRICS[metric].label, "interval": interval,
        "start": start, "end": end, "previous_start": previous_start, "previous_end": previous_end,
        "points": [{"period": bucket, "value": _value(metric, totals)} for bucket, totals in sorted(series.items())],
        "total": value, "previous_total": before, "change": change,
    }
