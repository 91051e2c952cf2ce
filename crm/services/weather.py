"""The weather in contacts' cities, refreshed on a schedule within the weather provider's plan.

Each distinct city (lower-case city and country, as contacts write them) is geocoded once, then read every
run: current weather and forecast (two calls). A run makes at most `weather_calls_per_run` calls and reports
the cities it skipped for that cap; the provider's per-minute pace is the account's rate limit. A short
rate-limit wait is waited out; a longer one, or the provider down, ends the run with the rest skipped.
"""

from datetime import timedelta

from django.db.models import Exists, F, Min, OuterRef
from django.db.models.functions import Lower, Trim
from django.utils import timezone

from crm import conf
from crm.models import CityWeather, Contact
from crm.services.repositories import Wait, read_waiting_briefly
from gateways import services as gateways
from gateways.capabilities import WeatherReport
from gateways.errors import GatewayError

RAINY = frozenset({"Rain", "Drizzle", "Thunderstorm"})
# Names of skipped cities kept in a run's report; the count says how many in all.
SKIPPED_NAMES = 20


def weather_cities_sync() -> int:
    """Adds a row for every city a contact lives in that has none yet (one read, one insert)."""
    known = CityWeather.objects.filter(city_key=Lower(Trim(OuterRef("city"))),
                                       country_key=Lower(Trim(OuterRef("country"))))
    cities = (Contact.objects.exclude(city="").exclude(Exists(known))
              .annotate(city_key=Lower(Trim("city")), country_key=Lower(Trim("country")))
              .values("city_key", "country_key")
              .annotate(city_name=Min(Trim("city")), country_name=Min(Trim("country")))
              # New cities are read in the order they were added: alphabetical, the same on every database.
              .order_by("city_key", "country_key"))
    rows = [CityWeather(city_key=row["city_key"][:120], country_key=row["country_key"][:120],
                        city=row["city_name"][:120], country=row["country_name"][:120])
            for row in cities if row["city_key"]]
    CityWeather.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)


def _today(report: WeatherReport) -> tuple[bool, float]:
    offset = timedelta(seconds=report.utc_offset_seconds)
    today = (report.current.at + offset).date()
    readings = [report.current, *(slot for slot in report.forecast if (slot.at + offset).date() == today)]
    return any(r.condition in RAINY for r in readings), max(r.temperature_c for r in readings)


def _apply(city: CityWeather, report: WeatherReport) -> None:
    rain, highest = _today(report)
    CityWeather.objects.filter(pk=city.pk).update(
        temperature_c=report.current.temperature_c, condition=report.current.condition[:40], rain_today=rain,
        max_temperature_today=highest, observed_at=report.current.at, refreshed_at=timezone.now())


def weather_refresh() -> dict:
    """Refreshes the cities longest without a reading first; returns what it did and what it skipped."""
    added = weather_cities_sync()
    counts = {"cities": 0, "added": added, "geocoded": 0, "not_found": 0, "refreshed": 0, "failed": 0, "calls": 0,
              "skipped": 0, "skipped_cities": [], "stopped": ""}
    account = gateways.weather_account()
    if account is None:
        counts["stopped"] = "No weather provider account is enabled: add an OpenWeather account in Provider accounts."
        return counts
    budget = conf.weather_calls_per_run()
    cities = list(CityWeather.objects.exclude(geocoded_at__isnull=False, found=False)
                  .order_by(F("refreshed_at").asc(nulls_first=True), "pk"))
    for index, city in enumerate(cities):
        counts["cities"] += 1
        need = 2 + (city.geocoded_at is None)
        if counts["calls"] + need > budget:
            _skip(counts, city)
            continue
        try:
            if city.geocoded_at is None:
                counts["calls"] += 1
                place = read_waiting_briefly(lambda c=city: gateways.place_find(account_id=account.pk, city=c.city,
                                                                                country=c.country))
                city.geocoded_at, city.found = timezone.now(), place is not None
                city.lat, city.lon = (place.lat, place.lon) if place else (None, None)
                city.save(update_fields=["geocoded_at", "found", "lat", "lon"])
                counts["geocoded"] += 1
                if place is None:
                    counts["not_found"] += 1
                    continue
            counts["calls"] += 2
            _apply(city, read_waiting_briefly(lambda c=city: gateways.weather_read(account_id=account.pk, lat=c.lat,
                                                                                   lon=c.lon)))
            counts["refreshed"] += 1
        except (Wait, GatewayError) as exc:
            counts["failed"] += 1
            counts["stopped"] = f"Stopped at {city}: {exc}"
            for rest in cities[index + 1:]:
                counts["cities"] += 1
                _skip(counts, rest)
            break
    return counts


def _skip(counts: dict, city: CityWeather) -> None:
    counts["skipped"] += 1
    if len(counts["skipped_cities"]) < SKIPPED_NAMES:
        counts["skipped_cities"].append(str(city))
