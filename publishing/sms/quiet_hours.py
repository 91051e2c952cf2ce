"""Quiet hours in the contact's own time zone: a message due in them waits for their end, never dropped."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name or settings.TIME_ZONE)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(settings.TIME_ZONE)


def quiet_until(now: datetime, time_zone: str, hours: tuple[int, int]) -> datetime | None:
    """When the quiet hours around `now` end for someone in `time_zone` (blank: the team's), or None when
    `now` is not in them. hours: (start, end) local hours; equal means never quiet."""
    start, end = hours
    if start == end:
        return None
    local = now.astimezone(_zone(time_zone))
    quiet = start <= local.hour or local.hour < end if start > end else start <= local.hour < end
    if not quiet:
        return None
    ends = local.replace(hour=end, minute=0, second=0, microsecond=0)
    if ends <= local:
        ends += timedelta(days=1)
    return ends  # zoneinfo gives a wall-clock hour its own offset, so a DST change in between is right
