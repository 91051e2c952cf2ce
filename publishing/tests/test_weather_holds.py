"""A post held until the weather in a chosen city meets a condition: it waits out of the dispatcher's reach,
is released when the hourly reading (OpenWeather replayed, crm/tests/weather_replay.py) meets it, and is
published only when the channel really took it; at the deadline it fails with the reason."""

from datetime import timedelta

import pytest
from django.utils import timezone

from aicmo_site.errors import ConflictError, DomainError
from crm.models import CityWeather
from crm.services.weather import weather_refresh
from crm.tests.factories import ContactFactory
from crm.tests.weather_replay import WeatherReplay, weather_account
from publishing import dispatcher
from publishing.choices import JobStatus, WeatherCondition
from publishing.services.weather_holds import job_hold_for_weather, weather_holds_check
from publishing.tests.channels import channel_on
from publishing.tests.factories import JobFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def cities(httpserver):
    weather_account(httpserver)
    WeatherReplay(httpserver)
    ContactFactory(city="London", country="GB")
    ContactFactory(city="Seville", country="ES")
    weather_refresh()
    return {c.city_key: c for c in CityWeather.objects.all()}


def test_a_held_post_waits_then_goes_out_when_the_rain_comes(httpserver, cities):
    httpserver.expect_request("/slack", method="POST").respond_with_data("ok")
    job = JobFactory(channel=channel_on(httpserver, "slack"))
    CityWeather.objects.filter(city_key="london").update(rain_today=False)
    job_hold_for_weather(job=job, city=cities["london"], condition=WeatherCondition.RAIN_TODAY,
                         give_up_at=timezone.now() + timedelta(days=2))

    assert dispatcher.dispatch_once() == {"recovered": 0}, "a waiting post is not due"
    assert weather_holds_check() == {"released": 0, "gave_up": 0, "still_waiting": 1}
    job.refresh_from_db()
    assert job.status == JobStatus.WAITING_FOR_WEATHER

    weather_refresh()  # the next hourly reading says rain later today
    assert weather_holds_check()["released"] == 1
    job.refresh_from_db()
    assert job.status == JobStatus.SCHEDULED and job.due_at <= timezone.now()

    assert dispatcher.dispatch_once()["published"] == 1
    job.refresh_from_db()
    assert job.status == JobStatus.PUBLISHED
    assert list(job.events.values_list("to_status", "by_system")[::-1][:3]) == [
        ("waiting_weather", ""), ("scheduled", "weather"), ("publishing", "dispatcher")]


def test_a_temperature_hold_gives_up_at_its_deadline_with_the_reason(httpserver, cities):
    job = JobFactory(channel=channel_on(httpserver, "slack"))
    job_hold_for_weather(job=job, city=cities["london"], condition=WeatherCondition.TEMPERATURE_ABOVE, threshold=25,
                         give_up_at=timezone.now() + timedelta(minutes=1))
    assert weather_holds_check()["released"] == 0

    job.weather_hold.__class__.objects.filter(pk=job.weather_hold.pk).update(
        give_up_at=timezone.now() - timedelta(seconds=1))
    assert weather_holds_check() == {"released": 0, "gave_up": 1, "still_waiting": 0}

    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    assert "Gave up waiting for the weather" in job.error_message and "above 25 °C in London" in job.error_message
    assert httpserver.log == [] or all("/slack" not in r.path for r, _ in httpserver.log)


def test_a_stale_reading_releases_nothing(httpserver, cities):
    job = JobFactory(channel=channel_on(httpserver, "slack"))
    job_hold_for_weather(job=job, city=cities["seville"], condition=WeatherCondition.TEMPERATURE_ABOVE, threshold=25,
                         give_up_at=timezone.now() + timedelta(days=1))
    CityWeather.objects.filter(city_key="seville").update(refreshed_at=timezone.now() - timedelta(hours=5))

    assert weather_holds_check()["released"] == 0

    CityWeather.objects.filter(city_key="seville").update(refreshed_at=timezone.now())
    assert weather_holds_check()["released"] == 1


def test_what_cannot_be_held_is_refused(httpserver, cities):
    job = JobFactory(channel=channel_on(httpserver, "slack"))
    later = timezone.now() + timedelta(days=1)
    with pytest.raises(DomainError, match="temperature"):
        job_hold_for_weather(job=job, city=cities["london"], condition=WeatherCondition.TEMPERATURE_BELOW,
                             give_up_at=later)
    with pytest.raises(DomainError, match="still to come"):
        job_hold_for_weather(job=job, city=cities["london"], condition=WeatherCondition.RAIN_TODAY,
                             give_up_at=timezone.now() - timedelta(minutes=1))
    published = JobFactory(channel=job.channel, status=JobStatus.PUBLISHED)
    with pytest.raises(ConflictError, match="cannot be held"):
        job_hold_for_weather(job=published, city=cities["london"], condition=WeatherCondition.RAIN_TODAY,
                             give_up_at=later)


def test_the_api_offers_and_applies_the_hold(httpserver, cities, api_as):
    job = JobFactory(channel=channel_on(httpserver, "slack"), scheduled_at=timezone.now() + timedelta(hours=2),
                     due_at=timezone.now() + timedelta(hours=2))
    marketer = api_as("Marketer")
    url = f"/api/jobs/{job.pk}/"
    assert "hold_for_weather" in marketer.get(url).data["available_actions"]

    refused = marketer.post(url + "hold-for-weather/", {"city": cities["seville"].pk, "condition": "temperature_above",
                                                        "threshold": 99, "give_up_at": "2999-01-01T00:00:00Z"})
    assert refused.status_code == 400 and "threshold" in refused.data["fields"]

    held = marketer.post(url + "hold-for-weather/", {"city": cities["seville"].pk, "condition": "temperature_above",
                                                     "threshold": 25, "give_up_at": "2999-01-01T00:00:00Z"})
    assert held.status_code == 200, held.data
    assert held.data["status"] == "waiting_weather" and "hold_for_weather" not in held.data["available_actions"]

    assert weather_holds_check()["released"] == 1
    job.refresh_from_db()
    assert job.status == JobStatus.SCHEDULED and job.due_at == job.scheduled_at, "not before its own time"
    assert api_as("Analyst").post(url + "hold-for-weather/", {}).status_code == 403


def test_the_campaign_page_holds_a_post_and_says_what_it_waits_for(httpserver, cities, client, make_user):
    client.force_login(make_user("mia", role="Marketer"))
    job = JobFactory(channel=channel_on(httpserver, "slack"))
    page = client.get(job.campaign.get_absolute_url()).content.decode()
    assert 'value="hold_for_weather"' in page and "Seville, ES" in page

    client.post(f"/publishing/jobs/{job.pk}/action/", {"action": "hold_for_weather", "city": cities["seville"].pk,
                                                       "condition": "temperature_above", "threshold": "30",
                                                       "give_up_at": "2999-01-01T09:30"})

    job.refresh_from_db()
    assert job.status == JobStatus.WAITING_FOR_WEATHER
    page = client.get(job.campaign.get_absolute_url()).content.decode()
    assert "Waiting for temperature above 30 °C in Seville, ES; gives up at 2999-01-01 09:30" in page
