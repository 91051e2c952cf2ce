"""Helpers of the weather hold tests: cities whose weather the replayed OpenWeather gave, and a campaign
on channels of the contract server."""

from django.utils import timezone

from crm.models import CityWeather
from crm.services.weather import weather_refresh
from crm.tests.factories import ContactFactory
from crm.tests.weather_replay import WeatherReplay, weather_account
from publishing.services import campaign_activate, campaign_create
from publishing.services.weather_holds import campaign_hold_for_weather
from publishing.tests.channels import channel_on
from publishing.tests.factories import ContentFactory, UserFactory, approve


def refreshed_cities(httpserver) -> dict[str, CityWeather]:
    """London and Seville, where contacts live, with the readings the replayed OpenWeather gives."""
    weather_account(httpserver)
    WeatherReplay(httpserver)
    ContactFactory(city="London", country="GB")
    ContactFactory(city="Seville", country="ES")
    weather_refresh()
    return {c.city_key: c for c in CityWeather.objects.all()}


def set_weather(city_key: str, **reading):
    """The hourly reading of a city, fresh, as the refresh would store it."""
    CityWeather.objects.filter(city_key=city_key).update(refreshed_at=timezone.now(), **reading)


def live_campaign(httpserver, *, kinds=("slack", "discord"), starts_at=None, hold=None):
    """An approved content on real channels of the contract server; `hold` (kwargs of
    campaign_hold_for_weather, with `channels` as kinds) is set on the draft before it is activated."""
    author = UserFactory(username="author")
    content = approve(ContentFactory(author=author, title="Umbrellas", body="Umbrellas, 20% off today."))
    channels = {kind: channel_on(httpserver, kind) for kind in kinds}
    campaign = campaign_create(by=author, name="Rainy day", starts_at=starts_at or timezone.now(),
                               contents=[content], channels=list(channels.values()))
    if hold is not None:
        only = [channels[kind] for kind in hold.pop("channels", ())]
        campaign_hold_for_weather(campaign=campaign, channels=only, by=author, **hold)
    return campaign_activate(campaign=campaign, by=author), channels


def job_statuses(campaign) -> dict[str, str]:
    return dict(campaign.jobs.values_list("channel__kind", "status"))


def posted(httpserver) -> list[str]:
    """What reached the channels (the weather calls are on the same contract server)."""
    return [request.path for request, _ in httpserver.log if request.method == "POST"]


def answer_posts(httpserver):
    httpserver.expect_request("/slack", method="POST").respond_with_data("ok")
    httpserver.expect_request("/discord", method="POST").respond_with_json(
        {"id": "1234567890", "channel_id": "42", "content": "x"})
