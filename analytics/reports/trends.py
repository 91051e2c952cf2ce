"""Any metric by day or week over a period, with the change against the previous period."""

import datetime as dt

from django.db.models import F, Sum
from django.db.models.functions import TruncWeek

from analytics.models import CampaignChannelDay, ContentChannelDay
from analytics.reports.measures import EVENT_MEASURES, METRICS, POST_MEASURES, derived, empty_totals

INTERVALS = ("day", "week")


def _buckets(start: dt.date, end: dt.date, interval: str) -> list[dt.date]:
    if interval == "day":
        return [start + dt.timedelta(days=n) for n in range((end - start).days + 1)]
    first = start - dt.timedelta(days=start.weekday())
    return [first + dt.timedelta(weeks=n) for n in range(((end - first).days // 7) + 1)]


def _series_totals(start, end, interval, campaign_ids=None) -> dict[dt.date, dict]:
    series = {bucket: empty_totals() for bucket in _buckets(start, end, interval)}
    for model, measures in ((CampaignChannelDay, EVENT_MEASURES), (ContentChannelDay, POST_MEASURES)):
        rows = model.objects.filter(day__gte=start, day__lte=end)
        if campaign_ids is not None:
            rows = rows.filter(campaign_id__in=campaign_ids)
        bucket = TruncWeek("day") if interval == "week" else F("day")
        rows = rows.annotate(bucket=bucket).values("bucket").annotate(**{m: Sum(m) for m in measures}).order_by()
        for row in rows:
            key = row["bucket"]
            key = key.date() if isinstance(key, dt.datetime) else key
            totals = series.setdefault(key, empty_totals())
            for measure in measures:
                totals[measure] += row[measure] or 0
    return series


def _value(metric: str, totals: dict):
    return totals[metric] if metric in totals else derived(totals)[metric]


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

    series = _series_totals(start, end, interval, campaign_ids)
    current = empty_totals()
    for totals in series.values():
        for measure in current:
            current[measure] += totals[measure]
    previous = empty_totals()
    for totals in _series_totals(previous_start, previous_end, "day", campaign_ids).values():
        for measure in previous:
            previous[measure] += totals[measure]

    value, before = _value(metric, current), _value(metric, previous)
    change = None if before in (None, 0) or value is None else (float(value) - float(before)) / float(before)
    return {
        "metric": metric, "label": METRICS[metric].label, "interval": interval,
        "start": start, "end": end, "previous_start": previous_start, "previous_end": previous_end,
        "points": [{"period": bucket, "value": _value(metric, totals)} for bucket, totals in sorted(series.items())],
        "total": value, "previous_total": before, "change": change,
    }
