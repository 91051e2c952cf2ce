"""OpenWeather (https://openweathermap.org/api): the geocoding API for a city's coordinates, then the current
weather and the 5-day / 3-hour forecast, in metric units.

- Geocoding: GET /geo/1.0/direct?q={city},{country code}&limit=1 (https://openweathermap.org/api/geocoding-api);
  an empty list means no such city.
- Current: GET /data/2.5/weather?lat&lon&units=metric (https://openweathermap.org/current).
- Forecast: GET /data/2.5/forecast?lat&lon&units=metric (https://openweathermap.org/forecast5).
The key goes in the `appid` query parameter, as documented; the client redacts it from every message.
401 is a bad or not yet active key (https://openweathermap.org/faq#error401), 429 the plan's calls per minute.
The free plan allows 60 calls a minute and 1,000,000 a month (https://openweathermap.org/price).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import ClassVar

from gateways.adapters._http import HttpAdapterMixin
from gateways.capabilities import Place, WeatherAdapter, WeatherReading, WeatherReport, register
from gateways.errors import ProviderUnavailable


def _reading(item: dict) -> WeatherReading | None:
    conditions = item.get("weather") or [{}]
    main = item.get("main") or {}
    temperature = main.get("temp")
    if not isinstance(temperature, int | float) or not isinstance(item.get("dt"), int):
        return None
    return WeatherReading(at=datetime.fromtimestamp(item["dt"], tz=UTC), temperature_c=float(temperature),
                          condition=str(conditions[0].get("main") or ""),
                          description=str(conditions[0].get("description") or ""))


@register
class OpenWeatherAdapter(HttpAdapterMixin, WeatherAdapter):
    key = "openweather"
    label = "OpenWeather"
    secret_parameters = ("api_key",)
    default_base_url = "https://api.openweathermap.org"
    # The free plan's 60 calls a minute, counted per operation: a weather read is two calls.
    default_rate_limit: ClassVar[tuple[int, float]] = (30, 60.0)
    credentials_advice = ("OpenWeather answers {status}: the API key is wrong or not active yet (a new key "
                          "takes a few hours); enter a working key in Provider accounts.")

    def _get(self, path: str, **params):
        return self.http.request_json("GET", self.url(path), params={**params, "appid": self.credential("api_key")},
                                      expect=(dict, list))

    def geocode(self, city: str, country: str = "") -> Place | None:
        country = country.strip()
        query = f"{city.strip()},{country}" if len(country) == 2 else city.strip()
        found = self._get("/geo/1.0/direct", q=query, limit=1)
        if not isinstance(found, list):
            raise ProviderUnavailable("OpenWeather answered the geocoding with something other than a list",
                                      provider=self.name)
        first = found[0] if found and isinstance(found[0], dict) else None
        if first is None or not isinstance(first.get("lat"), int | float) or not isinstance(first.get("lon"),
                                                                                             int | float):
            return None
        return Place(name=str(first.get("name") or city), country=str(first.get("country") or ""),
                     lat=float(first["lat"]), lon=float(first["lon"]))

    def weather(self, lat: float, lon: float) -> WeatherReport:
        current = self._get("/data/2.5/weather", lat=lat, lon=lon, units="metric")
        forecast = self._get("/data/2.5/forecast", lat=lat, lon=lon, units="metric")
        now = _reading(current) if isinstance(current, dict) else None
        if now is None or not isinstance(forecast, dict) or not isinstance(forecast.get("list"), list):
            raise ProviderUnavailable("OpenWeather answered with something other than the documented weather",
                                      provider=self.name)
        slots = [reading for reading in map(_reading, (i for i in forecast["list"] if isinstance(i, dict)))
                 if reading is not None]
        offset = current.get("timezone")
        return WeatherReport(current=now, forecast=slots, utc_offset_seconds=offset if isinstance(offset, int) else 0)

    def probe(self):
        def london() -> str:
            found = self._get("/geo/1.0/direct", q="London,GB", limit=1)
            return "key accepted" if isinstance(found, list) else "unexpected answer"

        return self.timed_probe(london)
