"""The weather in contacts' cities: geocoded once, refreshed within the call cap, and segment rules on it in
one SQL statement; against OpenWeather replayed (crm/tests/weather_replay.py)."""

import json

import pytest
from django.core.management import CommandError, call_command
from werkzeug import Response

from crm.models import CityWeather, Contact
from crm.segments import rules_q, rules_validate
from crm.services.weather import weather_refresh
from crm.tests.factories import ContactFactory
from crm.tests.weather_replay import WeatherReplay, weather_account

pytestmark = pytest.mark.django_db


@pytest.fixture
def replay(httpserver):
    weather_account(httpserver)
    return WeatherReplay(httpserver)


@pytest.fixture
def people():
    return {
        "ann": ContactFactory(email="ann@acme.io", city="London", country="GB"),
        "bo": ContactFactory(email="bo@acme.io", city=" london ", country="gb"),
        "cy": ContactFactory(email="cy@acme.io", city="Seville", country="ES"),
        "di": ContactFactory(email="di@acme.io", city="Lyon", country="FR"),
        "ed": ContactFactory(email="ed@acme.io", city="Atlantis", country=""),
        "flo": ContactFactory(email="flo@acme.io", city="", country="GB"),
    }


def members(rule: dict) -> list[str]:
    return sorted(Contact.objects.filter(rules_q({"op": "and", "rules": [rule]})).values_list("email", flat=True))


def test_each_city_is_geocoded_once_and_its_weather_read(replay, people):
    first = weather_refresh()

    assert (first["added"], first["geocoded"], first["not_found"], first["refreshed"], first["skipped"]) == (
        4, 4, 1, 3, 0)
    assert first["calls"] == 4 + 3 * 2
    london = CityWeather.objects.get(city_key="london", country_key="gb")
    assert (london.found, london.temperature_c, london.condition, london.rain_today, london.max_temperature_today) == (
        True, 11.0, "Clouds", True, 13.0), "rain later today counts; tomorrow's storm does not"

    second = weather_refresh()

    assert (second["added"], second["geocoded"], second["refreshed"]) == (0, 0, 3)
    assert replay.calls["/geo/1.0/direct"] == 4, "a city is geocoded once, an unknown one too"


def test_segment_rules_on_the_weather_where_contacts_live(replay, people):
    weather_refresh()

    assert members({"field": "weather", "operator": "rain_today"}) == ["ann@acme.io", "bo@acme.io", "di@acme.io"]
    assert members({"field": "weather", "operator": "no_rain_today"}) == ["cy@acme.io"]
    assert members({"field": "weather", "operator": "temperature_above", "value": 25}) == ["cy@acme.io"]
    assert members({"field": "weather", "operator": "temperature_below", "value": 10.5}) == ["di@acme.io"]
    assert rules_validate({"field": "weather", "operator": "temperature_above", "value": "hot"})[0]["path"] == (
        "rules.value")


def test_a_rule_is_one_statement_whatever_the_number_of_cities(replay, people, django_assert_num_queries):
    weather_refresh()
    with django_assert_num_queries(1):
        list(Contact.objects.filter(rules_q({"field": "weather", "operator": "rain_today"})).values_list("pk"))


def test_the_call_cap_skips_cities_and_says_which(replay, people, settings):
    settings.CRM_WEATHER_CALLS_PER_RUN = 5

    report = weather_refresh()

    assert report["calls"] <= 5 and report["refreshed"] == 1 and report["skipped"] >= 2
    assert len(report["skipped_cities"]) == report["skipped"]
    settings.CRM_WEATHER_CALLS_PER_RUN = 100
    assert weather_refresh()["skipped"] == 0, "the next run starts with the cities left without a reading"


def test_a_used_up_plan_stops_the_run_and_reports_the_rest_skipped(replay, people):
    replay.refusal = Response(json.dumps({"cod": 429, "message": "Your account is temporary blocked"}), status=429,
                              headers={"Retry-After": "3600"})

    report = weather_refresh()

    assert report["refreshed"] == 0 and report["failed"] == 1 and "temporary blocked" in report["stopped"]
    assert report["skipped"] == report["cities"] - 1


def test_without_a_weather_account_nothing_is_read(people):
    report = weather_refresh()
    assert report["refreshed"] == 0 and "OpenWeather account" in report["stopped"]


def test_the_command_prints_what_it_refreshed_and_skipped(replay, people, capsys, settings):
    settings.CRM_WEATHER_CALLS_PER_RUN = 5
    call_command("weather_refresh")
    out = capsys.readouterr().out
    assert out.startswith("Weather refreshed: 1 of 4 cities refreshed in ") and "1 not found), 2 skipped: " in out


def test_the_command_fails_with_the_reason_without_an_account(people):
    with pytest.raises(CommandError, match="OpenWeather account"):
        call_command("weather_refresh")
