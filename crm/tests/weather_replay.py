"""OpenWeather replayed for the CRM, as documented: geocoding (https://openweathermap.org/api/geocoding-api),
current weather (https://openweathermap.org/current) and the 5-day forecast (https://openweathermap.org/forecast5)
in metric units, the key in `appid`."""

import json
import time
from collections import Counter

from werkzeug import Response

from gateways.capabilities import Capability
from gateways.services import account_create

KEY = "b1b15e88fa797225412429c1c50c122a1"
# city -> (lat, lon, country, temperature now, condition now, later today's condition)
CITIES = {
    "london": (51.5073, -0.1276, "GB", 11.0, "Clouds", "Rain"),
    "seville": (37.3886, -5.9823, "ES", 27.5, "Clear", "Clear"),
    "lyon": (45.7640, 4.8357, "FR", 8.0, "Drizzle", "Clouds"),
}


def weather_account(httpserver, **fields):
    return account_create(capability=Capability.WEATHER, adapter="openweather", name="openweather",
                          base_url=httpserver.url_for("/"), timeout_seconds=2.0, credentials={"api_key": KEY},
                          **fields)


class WeatherReplay:
    def __init__(self, httpserver):
        self.calls: Counter = Counter()
        self.refusal: Response | None = None
        for path in ("/geo/1.0/direct", "/data/2.5/weather", "/data/2.5/forecast"):
            httpserver.expect_request(path).respond_with_handler(self._answer)

    def _city(self, request):
        lat = float(request.args["lat"])
        return next(name for name, c in CITIES.items() if abs(c[0] - lat) < 1e-3)

    def _answer(self, request):
        self.calls[request.path] += 1
        if request.args.get("appid") != KEY:
            return Response(json.dumps({"cod": 401, "message": "Invalid API key."}), status=401)
        if self.refusal is not None:
            refusal, self.refusal = self.refusal, None
            return refusal
        if request.path == "/geo/1.0/direct":
            name = request.args["q"].split(",")[0].strip().lower()
            found = CITIES.get(name)
            body = [{"name": name.title(), "lat": found[0], "lon": found[1], "country": found[2]}] if found else []
            return Response(json.dumps(body), content_type="application/json")
        assert request.args["units"] == "metric"
        lat, lon, country, temp, now, later = CITIES[self._city(request)]
        # Noon UTC today (offset 0), so the later slot is still today and the next-day one is not.
        noon = int(time.time()) // 86400 * 86400 + 12 * 3600
        if request.path == "/data/2.5/weather":
            body = {"weather": [{"main": now, "description": now.lower()}], "main": {"temp": temp}, "dt": noon,
                    "timezone": 0, "cod": 200}
        else:
            body = {"cod": "200", "list": [
                {"dt": noon + 3 * 3600, "main": {"temp": temp + 2}, "weather": [{"main": later}]},
                {"dt": noon + 24 * 3600, "main": {"temp": 40.0}, "weather": [{"main": "Thunderstorm"}]}]}
        return Response(json.dumps(body), content_type="application/json")
