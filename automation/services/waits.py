"""When a wait ends for each contact: after a duration, at a fixed date-time, on a contact's own date
(a custom field or when they were created) ± N days at an hour, or at the next weekday and hour in the
contact's time zone. Computed per claimed batch, grouped by time zone, so the runner moves everyone of
one zone (or one date) with one UPDATE."""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils.dateparse import parse_date, parse_datetime

from automation.choices import JOURNEY_EVENTS
from crm.models import Contact, time_zone_known

WAIT_UNITS = {"seconds": 1, "minutes": 60, "hours": 3600, "days": 86400}
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
# Contact fields that are dates themselves; any other name is a custom field holding "YYYY-MM-DD".
BUILT_IN_DATES = ("created_at", "consent_changed_at")
WAIT_MODES = ("until", "until_field", "weekday")


def wait_seconds(config: dict) -> int:
    return sum(int(config.get(unit) or 0) * size for unit, size in WAIT_UNITS.items())


def _hour_error(config: dict) -> list[str]:
    hour = config.get("hour", 9)
    return [] if isinstance(hour, int) and 0 <= hour <= 23 else ["Give the hour as 0 to 23."]


def wait_config_errors(config: dict) -> list[str]:
    modes = [mode for mode in WAIT_MODES if mode in config]
    durations = [unit for unit in WAIT_UNITS if unit in config]
    if len(modes) > 1 or (modes and durations):
        return ["Wait for a duration, until a date, until a contact's date or until a weekday: one of them."]
    if not modes:
        try:
            seconds = wait_seconds(config)
        except (TypeError, ValueError):
            return ["Give the wait as whole seconds, minutes, hours or days."]
        return ["A wait cannot be negative."] if seconds < 0 else []
    if modes == ["until"]:
        return [] if _fixed(config["until"]) else ["Give the date and time as 2026-12-24T09:00 (ISO 8601)."]
    if modes == ["until_field"]:
        field = config["until_field"]
        errors = [] if isinstance(field, str) and field.strip() else ["Name the contact's date field."]
        if not isinstance(config.get("offset_days", 0), int):
            errors.append("Give the days before (negative) or after as a whole number.")
        return errors + _hour_error(config)
    weekday = config["weekday"]
    errors = [] if weekday in WEEKDAYS else [f"Choose a weekday: {', '.join(WEEKDAYS)}."]
    return errors + _hour_error(config)


def wait_event_errors(config: dict) -> list[str]:
    errors = [] if config.get("event") in JOURNEY_EVENTS else [f"Choose an event: {', '.join(JOURNEY_EVENTS)}."]
    try:
        timeout = wait_seconds(config)
    except (TypeError, ValueError):
        timeout = 0
    if timeout <= 0:
        errors.append("Give the time to wait before giving up (seconds, minutes, hours or days).")
    return errors


def _fixed(value) -> datetime | None:
    moment = parse_datetime(value) if isinstance(value, str) else None
    if moment is not None and moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo(settings.TIME_ZONE))
    return moment


def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name if name and time_zone_known(name) else settings.TIME_ZONE)


def _at(day: date, hour: int, zone: ZoneInfo) -> datetime:
    # An hour the clocks skip (a spring-forward night) resolves to the same wall time an hour later.
    return datetime.combine(day, time(hour), tzinfo=zone)


def next_weekday_hour(now: datetime, weekday: str, hour: int, zone: ZoneInfo) -> datetime:
    """The first `weekday` at `hour` in `zone` after now, by the wall clock there (DST moves it in UTC)."""
    local = now.astimezone(zone)
    day = local.date() + timedelta(days=(WEEKDAYS.index(weekday) - local.weekday()) % 7)
    due = _at(day, hour, zone)
    return due if due > now else _at(day + timedelta(days=7), hour, zone)


def _contact_date(value, zone: ZoneInfo) -> date | None:
    if isinstance(value, datetime):
        return value.astimezone(zone).date()
    if not isinstance(value, str):
        return None
    try:
        return parse_date(value[:10])
    except ValueError:
        return None


def wait_ends(config: dict, contact_ids: list[int], now: datetime) -> dict[int, datetime | None]:
    """Each contact's end of the wait (None: they have no such date, the wait ends at once). Zones
    and dates are resolved once each, not per contact."""
    if "until" in config:
        moment = _fixed(config["until"])
        return dict.fromkeys(contact_ids, moment)
    hour = config.get("hour", 9)
    if "weekday" in config:
        zones = dict(Contact.objects.filter(pk__in=contact_ids).values_list("pk", "time_zone"))
        due_by_zone = {name: next_weekday_hour(now, config["weekday"], hour, _zone(name))
                       for name in set(zones.values())}
        return {pk: due_by_zone[zones.get(pk, "")] if pk in zones else now for pk in contact_ids}
    field, offset = config["until_field"], timedelta(days=config.get("offset_days", 0))
    column = field if field in BUILT_IN_DATES else f"custom_fields__{field}"
    rows = Contact.objects.filter(pk__in=contact_ids).values_list("pk", "time_zone", column)
    ends, resolved = dict.fromkeys(contact_ids), {}
    for pk, zone_name, value in rows:
        day = _contact_date(value, _zone(zone_name))
        if day is not None:
            key = (zone_name, day)
            if key not in resolved:
                resolved[key] = _at(day + offset, hour, _zone(zone_name))
            ends[pk] = resolved[key]
    return ends
