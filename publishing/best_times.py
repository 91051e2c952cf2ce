"""The best time to post on a channel account, learned from what its own posts did.

Each published post counts once, in the hour of the week (team's time zone) it went out, with its
engagements (the latest snapshot: snapshots are running totals, so the highest is the latest).
A cell's score is shrunk towards the channel's average per post (empirical-Bayes:
(sum + K * prior) / (posts + K)), so an hour seen once with a lucky post does not beat an hour
seen twenty times; the confidence of a cell is posts / (posts + K).
"""

import zoneinfo
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import Count, IntegerField, Max, OuterRef, Subquery, Sum
from django.db.models.functions import Coalesce, ExtractHour, ExtractIsoWeekDay

from publishing.choices import JobStatus
from publishing.models import Channel, MetricSnapshot, PublishingJob

# Posts an hour needs before its own average counts as much as the channel's.
PRIOR_WEIGHT = 5
# Posts a channel needs before its map as a whole is more than a hint.
CONFIDENT_POSTS = 50
CACHE_SECONDS = 15 * 60
DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def team_zone() -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(settings.TIME_ZONE)


def confidence_label(confidence: float) -> str:
    if confidence >= 0.75:
        return "high confidence"
    if confidence >= 0.5:
        return "medium confidence"
    return "low confidence"


def with_shades(result: dict) -> dict:
    """The map with each cell's `level` (five shades, darker is better) and `confidence_word`, for a page:
    each shade is named in the cell's hidden text too, so the colour is never the only cue."""
    top = max(cell["score"] for day in result["grid"] for cell in day["hours"]) or 1
    for day in result["grid"]:
        for cell in day["hours"]:
            cell["level"] = min(4, int(cell["score"] / top * 5))
            cell["confidence_word"] = confidence_label(cell["confidence"])
    return result


def _hourly_totals(channel_id: int) -> dict[tuple[int, int], tuple[int, int]]:
    """(weekday 0-6, hour) -> (posts, engagements), in one aggregate query."""
    latest = (
        MetricSnapshot.objects.filter(job=OuterRef("pk"))
        .order_by()
        .values("job")
        .annotate(top=Max("engagements"))
        .values("top")
    )
    zone = team_zone()
    rows = (
        PublishingJob.objects.filter(channel_id=channel_id, status=JobStatus.PUBLISHED, published_at__isnull=False)
        .annotate(
            engagement=Coalesce(Subquery(latest, output_field=IntegerField()), 0),
            weekday=ExtractIsoWeekDay("published_at", tzinfo=zone),
            hour=ExtractHour("published_at", tzinfo=zone),
        )
        .order_by()
        .values("weekday", "hour")
        .annotate(posts=Count("id"), total=Sum("engagement"))
    )
    return {(row["weekday"] - 1, row["hour"]): (row["posts"], row["total"] or 0) for row in rows}


def map_from_totals(totals: dict[tuple[int, int], tuple[int, int]], *, subject: int | str) -> dict:
    """The 7x24 map from (weekday, hour) -> (posts, engagements), each cell shrunk towards the average."""
    posts = sum(n for n, _ in totals.values())
    engagements = sum(total for _, total in totals.values())
    prior = engagements / posts if posts else 0.0
    grid = []
    for weekday in range(7):
        row = []
        for hour in range(24):
            n, total = totals.get((weekday, hour), (0, 0))
            score = (total + PRIOR_WEIGHT * prior) / (n + PRIOR_WEIGHT)
            row.append(
                {"hour": hour, "posts": n, "score": round(score, 2), "confidence": round(n / (n + PRIOR_WEIGHT), 2)}
            )
        grid.append({"weekday": weekday, "day": DAYS[weekday], "hours": row})
    overall = round(posts / (posts + CONFIDENT_POSTS), 2)
    return {
        "channel": subject,
        "time_zone": settings.TIME_ZONE,
        "posts_seen": posts,
        "prior": round(prior, 2),
        "prior_weight": PRIOR_WEIGHT,
        "confidence": overall,
        "confidence_label": confidence_label(overall),
        "grid": grid,
    }


def _cache_key(channel_id: int) -> str:
    return f"publishing:best-times:{channel_id}"


def best_times_forget(channel_id: int) -> None:
    """New engagement arrived for this channel: its next map is computed afresh. After the commit, so that a
    reader between the delete and the commit cannot cache the map without the new figures again."""
    transaction.on_commit(lambda: cache.delete(_cache_key(channel_id)))


def channel_best_times(channel: Channel | int) -> dict:
    """The 7x24 map of a channel, cached a while and forgotten when its posts gather engagement."""
    channel_id = channel if isinstance(channel, int) else channel.pk
    result = cache.get(_cache_key(channel_id))
    if result is None:
        result = map_from_totals(_hourly_totals(channel_id), subject=channel_id)
        cache.set(_cache_key(channel_id), result, CACHE_SECONDS)
    return result


def best_time_in_window(*, channels: list[Channel], start: datetime, end: datetime) -> dict | None:
    """The best whole hour in [start, end) for a post going to these channels (their scores added,
    the confidence the lowest of theirs); None when the window holds no whole hour."""
    zone = team_zone()
    maps = [channel_best_times(channel) for channel in channels]
    slot = start.astimezone(zone).replace(minute=0, second=0, microsecond=0)
    if slot < start:
        slot += timedelta(hours=1)
    best = None
    while slot < end:
        cells = [m["grid"][slot.weekday()]["hours"][slot.hour] for m in maps]
        score = sum(cell["score"] for cell in cells)
        if best is None or score > best["score"]:
            confidence = min((cell["confidence"] for cell in cells), default=0.0)
            best = {
                "at": slot,
                "score": score,
                "confidence": confidence,
                "confidence_label": confidence_label(confidence),
                "posts": min((cell["posts"] for cell in cells), default=0),
            }
        # Stepped in UTC: an hour added to a wall-clock time is wrong across a clock change.
        slot = (slot.astimezone(UTC) + timedelta(hours=1)).astimezone(zone)
    return best
