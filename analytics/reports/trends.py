"""Any metric by hour, day or week over a period, with the change against the previous period."""

import datetime as dt

from analytics.reports.measures import (
    BASE_MEASURES,
    METRICS,
    derived,
    empty_totals,
    hourly_rolled_up,
    regrouped,
    rolled_up,
)
from analytics.services.zones import team_zone

INTERVALS = ("hour", "day", "week")
# By hour the figures come from the hourly roll-up, which holds the events and the email sends of every
# campaign together: not the channels' daily snapshots (impressions, post clicks, spend), so not the
# rates built on them, nor a campaign's own figures.
HOURLY_METRICS = ("sent", "delivered", "opens", "clicks", "replies", "bounces", "unsubscribes", "complaints",
                  "page_views", "form_submits", "conversions", "revenue", "open_rate", "conversion_rate",
                  "bounce_rate", "unsubscribe_rate")
HOURLY_MOST_DAYS = 7


def _buckets(start: dt.date, end: dt.date, interval: str) -> list[dt.date]:
    if interval == "day":
        return [start + dt.timedelta(days=n) for n in range((end - start).days + 1)]
    first = start - dt.timedelta(days=start.weekday())
    return [first + dt.timedelta(weeks=n) for n in range(((end - first).days // 7) + 1)]


def _bucket(day: dt.date, interval: str) -> dt.date:
    return day if interval == "day" else day - dt.timedelta(days=day.weekday())


def bucket_of(moment: dt.datetime, interval: str):
    """The point of a trend a moment falls in: its local hour (naive), day or week."""
    local = moment.astimezone(team_zone())
    if interval == "hour":
        return local.replace(minute=0, second=0, microsecond=0, tzinfo=None)
    return _bucket(local.date(), interval)


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
    if interval == "hour":
        return _hourly_trend(metric=metric, start=start, end=end)
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


def hour_starts(start: dt.date, end: dt.date) -> list[dt.datetime]:
    """The local wall hours of the days from `start` to `end`, naive, each once (as the anomaly detector
    keys them): stepped in UTC, so a change of clock neither skips nor repeats one."""
    zone = team_zone()
    moment = dt.datetime.combine(start, dt.time.min, zone).astimezone(dt.UTC)
    until = dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min, zone)
    hours = {}
    while moment < until:
        hours[moment.astimezone(zone).replace(tzinfo=None)] = None
        moment += dt.timedelta(hours=1)
    return list(hours)


def _hourly_trend(*, metric: str, start: dt.date, end: dt.date) -> dict:
    if metric not in HOURLY_METRICS:
        raise ValueError(f"Metric {metric!r} has no hourly trend; choose one of {', '.join(HOURLY_METRICS)}.")
    if (end - start).days >= HOURLY_MOST_DAYS:
        raise ValueError(f"A trend by hour spans {HOURLY_MOST_DAYS} days at most.")
    previous_end = start - dt.timedelta(days=1)
    previous_start = previous_end - (end - start)
    hours = hourly_rolled_up(previous_start, end)
    series = {hour: hours.get((hour.date(), hour.hour), empty_totals()) for hour in hour_starts(start, end)}
    current = regrouped({key: totals for key, totals in hours.items() if key[0] >= start}, ()).get(
        (), empty_totals())
    previous = regrouped({key: totals for key, totals in hours.items() if key[0] < start}, ()).get(
        (), empty_totals())
    value, before = _value(metric, current), _value(metric, previous)
    change = None if before in (None, 0) or value is None else (float(value) - float(before)) / float(before)
    return {
        "metric": metric, "label": METRICS[metric].label, "interval": "hour",
        "start": start, "end": end, "previous_start": previous_start, "previous_end": previous_end,
        "points": [{"period": hour, "value": _value(metric, totals)} for hour, totals in series.items()],
        "total": value, "previous_total": before, "change": change,
    }
