"""GitHub repositories in the reports: their daily figures as a trend, and releases as markers on any trend.

A day is the team's day (analytics.services.zones), as everywhere in the reports.
"""

import datetime as dt
from collections import defaultdict

from analytics.reports.trends import bucket_of, trend
from analytics.services.zones import team_zone
from crm.models import RepositoryRelease, RepositorySnapshot, WatchedRepository

REPOSITORY_METRICS = {"stars": "Stars", "forks": "Forks", "watchers": "Watchers", "open_issues": "Open issues",
                      "releases": "Releases", "views": "Views (last 14 days)", "clones": "Clones (last 14 days)"}
TRAFFIC = ("views", "clones")


def release_markers(*, start: dt.date, end: dt.date, interval: str = "day",
                    repository: str = "") -> dict[dt.date, list[str]]:
    """Releases published in the period, by the hour, day or week they fall in: "owner/name tag"."""
    zone = team_zone()
    since = dt.datetime.combine(start, dt.time.min, tzinfo=zone)
    until = dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min, tzinfo=zone)
    releases = RepositoryRelease.objects.filter(published_at__gte=since, published_at__lt=until)
    if repository:
        releases = releases.filter(repository_name=repository)
    markers: dict[dt.date, list[str]] = defaultdict(list)
    for name, tag, published_at in releases.order_by("published_at").values_list("repository_name", "tag",
                                                                                   "published_at"):
        markers[bucket_of(published_at, interval)].append(f"{name} {tag}")
    return dict(markers)


def repository_trend(*, repository: WatchedRepository, metric: str, start: dt.date, end: dt.date) -> dict:
    """One figure of one repository by day; a day without a read is None (not zero: it is unknown)."""
    if metric not in REPOSITORY_METRICS:
        raise ValueError(f"Metric {metric!r} is not a repository figure; choose one of "
                         f"{', '.join(REPOSITORY_METRICS)}.")
    if end < start:
        raise ValueError("The period ends before it starts.")
    read = {day: (value, available) for day, value, available in RepositorySnapshot.objects.filter(
        repository=repository, day__range=(start, end)).values_list("day", metric, "traffic_available")}
    markers = release_markers(start=start, end=end, repository=repository.full_name)
    days = [start + dt.timedelta(days=n) for n in range((end - start).days + 1)]
    return {"repository": repository.full_name, "metric": metric, "label": REPOSITORY_METRICS[metric],
            "start": start, "end": end,
            "points": [{"period": day, "value": read.get(day, (None,))[0], "note": _note(metric, read.get(day)),
                        "releases": markers.get(day, [])} for day in days]}


def _note(metric: str, read: tuple | None) -> str:
    if read is None:
        return "not read"
    if metric in TRAFFIC and not read[1]:
        return "not available with this token"
    return ""


def trend_with_releases(*, metric: str, interval: str, start: dt.date, end: dt.date,
                        markers: dict | None = None) -> dict:
    """The marketing trend, each point naming the releases published in it (the chart's markers; `markers`:
    what release_markers gave, when the caller has read them already)."""
    result = trend(metric=metric, interval=interval, start=start, end=end)
    if markers is None:
        markers = release_markers(start=start, end=end, interval=interval)
    for point in result["points"]:
        point["releases"] = markers.get(point["period"], [])
    return result
