import zoneinfo

from django.conf import settings


def team_zone() -> zoneinfo.ZoneInfo:
    """The team's time zone decides what "a day" is in every roll-up and report."""
    return zoneinfo.ZoneInfo(settings.TIME_ZONE)
