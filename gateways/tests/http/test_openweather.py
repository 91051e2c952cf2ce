"""OpenWeather replayed as documented: geocoding (https://openweathermap.org/api/geocoding-api), current
weather (https://openweathermap.org/current), the 5-day forecast (https://openweathermap.org/forecast5) and
the errors (https://openweathermap.org/faq#error401: 401 for a bad key, 429 past the plan's calls)."""

from datetime import UTC, datetime

import pytest

from gateways.adapters.openweather import OpenWeatherAdapter
from gateways.capabilities import Place, WeatherReading
from gateways.errors import ProviderUnavailable, RateLimited

KEY = "b1b15e88fa797225412429c1c50c122a1"
LONDON = [{"name": "London", "local_names": {"en": "London"}, "lat": 51.5073219, "lon": -0.1276474, "country": "GB",
           "state": "England"}]


def current(temp=12.5, main="Rain", dt=1764900000) -> dict:
    return {"coord": {"lon": -0.1276, "lat": 51.5073}, "weather": [
        {"id": 501, "main": main, "description": "moderate rain", "icon": "10d"}], "base": "stations",
        "main": {"temp": temp, "feels_like": temp - 1, "temp_min": temp - 2, "temp_max": temp + 2, "pressure": 1015,
                 "humidity": 64}, "rain": {"1h": 3.16}, "dt": dt, "timezone": 3600, "id": 2643743,
        "name": "London", "cod": 200}


def forecast(*slots) -> dict:
    return {"cod": "200", "message": 0, "cnt": len(slots), "list": [
        {"dt": dt, "main": {"temp": temp}, "weather": [{"id": 800, "main": main, "description": main.lower()}],
         "pop": 0.2, "dt_txt": ""} for dt, temp, main in slots],
        "city": {"id": 2643743, "name": "London", "country": "GB", "timezone": 3600}}


@pytest.fixture
def openweather(make_adapter):
    return make_adapter(OpenWeatherAdapter, credentials={"api_key": KEY})


def test_a_city_is_geocoded_with_its_country_code(openweather, httpserver):
    httpserver.expect_request("/geo/1.0/direct", query_string={"q": "London,GB", "limit": "1", "appid": KEY}) \
        .respond_with_json(LONDON)

    assert openweather.geocode("London", "GB") == Place(name="London", country="GB", lat=51.5073219,
                                                       lon=-0.1276474)


def test_an_unknown_city_is_none(openweather, httpserver):
    httpserver.expect_request("/geo/1.0/direct", query_string={"q": "Atlantis", "limit": "1", "appid": KEY}) \
        .respond_with_json([])

    assert openweather.geocode("Atlantis", "Ocean") is None


def test_current_weather_and_forecast_in_metric_units(openweather, httpserver):
    query = {"lat": "51.5073219", "lon": "-0.1276474", "units": "metric", "appid": KEY}
    httpserver.expect_request("/data/2.5/weather", query_string=query).respond_with_json(current())
    httpserver.expect_request("/data/2.5/forecast", query_string=query).respond_with_json(
        forecast((1764910800, 14.0, "Clouds"), (1764921600, 9.5, "Rain")))

    report = openweather.weather(51.5073219, -0.1276474)

    assert report.current == WeatherReading(at=datetime.fromtimestamp(1764900000, tz=UTC), temperature_c=12.5,
                                            condition="Rain", description="moderate rain")
    assert [(r.temperature_c, r.condition) for r in report.forecast] == [(14.0, "Clouds"), (9.5, "Rain")]
    assert report.utc_offset_seconds == 3600


def test_a_bad_key_is_unavailable_and_never_shown(openweather, httpserver):
    httpserver.expect_request("/geo/1.0/direct").respond_with_json(
        {"cod": 401, "message": "Invalid API key. Please see https://openweathermap.org/faq#error401 for more info."},
        status=401)

    with pytest.raises(ProviderUnavailable, match="Invalid API key") as caught:
        openweather.geocode("London", "GB")

    assert KEY not in str(caught.value) and "API key" in caught.value.advice


def test_too_many_calls_is_a_rate_limit(openweather, httpserver):
    httpserver.expect_request("/data/2.5/weather").respond_with_json(
        {"cod": 429, "message": "Your account is temporary blocked due to exceeding of requests limitation of your "
                                "subscription type."}, status=429, headers={"Retry-After": "60"})

    with pytest.raises(RateLimited) as caught:
        openweather.weather(1.0, 2.0)

    assert caught.value.retry_after == 60


def test_a_server_error_is_unavailable(openweather, httpserver):
    httpserver.expect_request("/data/2.5/weather").respond_with_data("Bad gateway", status=502)

    with pytest.raises(ProviderUnavailable) as caught:
        openweather.weather(1.0, 2.0)

    assert caught.value.status == 502 and KEY not in str(caught.value)


def test_a_timeout_is_unavailable(make_adapter, answers_late):
    url = answers_late("/geo/1.0/direct")
    slow = make_adapter(OpenWeatherAdapter, credentials={"api_key": KEY}, timeout=0.2,
                        base_url=url.rsplit("/geo/", 1)[0])

    with pytest.raises(ProviderUnavailable, match="no answer"):
        slow.geocode("London", "GB")
