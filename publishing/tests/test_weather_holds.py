"""A post held until the weather in a chosen city meets a condition: it waits out of the dispatcher's reach,
is released when the hourly reading (OpenWeather replayed, crm/tests/weather_replay.py) meets it, and is
published only when the channel really took it; at the deadline it fails with the reason."""

from datetime import timedelta

import pytest
from django.utils import timezone

from aicmo_site.errors import ConflictError, DomainError
from crm.models import CityWeather
from crm.services.weather import weather_refresh
from publishing import dispatcher
from publishing.choices import CampaignStatus, JobStatus, WeatherCondition
from publishing.models import CampaignWeatherHold, JobEvent, WeatherHold
from publishing.services import (
    campaign_activate,
    campaign_cancel,
    campaign_create,
    campaign_duplicate,
    campaign_pause,
    campaign_resume,
    job_retry,
)
from publishing.services.weather_holds import campaign_hold_for_weather, job_hold_for_weather, weather_holds_check
from publishing.tests.channels import channel_on
from publishing.tests.factories import ContentFactory, JobFactory, UserFactory, approve
from publishing.tests.weather import answer_posts, job_statuses, live_campaign, posted, refreshed_cities, set_weather

pytestmark = pytest.mark.django_db


@pytest.fixture
def cities(httpserver):
    return refreshed_cities(httpserver)


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


# ---- a campaign's hold: every post, or those of chosen channels ---------------------------------------------


def test_a_campaign_hold_on_a_draft_holds_the_chosen_channels_posts_from_activation(httpserver, cities):
    answer_posts(httpserver)
    set_weather("london", rain_today=False)
    campaign, _ = live_campaign(httpserver, hold={
        "city": cities["london"], "condition": WeatherCondition.RAIN_TODAY, "channels": ["slack"],
        "give_up_at": timezone.now() + timedelta(days=2)})
    assert job_statuses(campaign) == {"slack": "waiting_weather", "discord": "scheduled"}
    assert "1 held for the weather" in campaign.events.get(to_status=CampaignStatus.RUNNING).note

    assert dispatcher.dispatch_once()["published"] == 1
    assert job_statuses(campaign) == {"slack": "waiting_weather", "discord": "published"}

    set_weather("london", rain_today=True)
    assert weather_holds_check()["released"] == 1
    assert dispatcher.dispatch_once()["published"] == 1
    assert job_statuses(campaign) == {"slack": "published", "discord": "published"}
    assert sorted(posted(httpserver)) == ["/discord", "/slack"]
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.COMPLETED


def test_a_hold_set_on_a_live_campaign_holds_its_posts_not_yet_out(httpserver, cities):
    campaign, _ = live_campaign(httpserver, starts_at=timezone.now() + timedelta(hours=1))
    assert job_statuses(campaign) == {"slack": "scheduled", "discord": "scheduled"}

    campaign_hold_for_weather(campaign=campaign, city=cities["seville"], threshold=30,
                              condition=WeatherCondition.TEMPERATURE_ABOVE,
                              give_up_at=timezone.now() + timedelta(days=1))

    assert job_statuses(campaign) == {"slack": "waiting_weather", "discord": "waiting_weather"}
    assert set(WeatherHold.objects.values_list("condition", "threshold", "city__city_key")) == {
        ("temperature_above", 30.0, "seville")}
    assert set(JobEvent.objects.filter(to_status=JobStatus.WAITING_FOR_WEATHER).values_list("note", flat=True)) == {
        f"Campaign held until temperature above 30 °C in Seville, ES; gives up at "
        f"{timezone.localtime(campaign.weather_hold.give_up_at):%d %b %H:%M}"}


def test_pausing_a_campaign_pauses_its_held_posts_and_resuming_waits_for_the_weather_again(httpserver, cities):
    answer_posts(httpserver)
    set_weather("london", rain_today=False)
    campaign, _ = live_campaign(httpserver, hold={
        "city": cities["london"], "condition": WeatherCondition.RAIN_TODAY,
        "give_up_at": timezone.now() + timedelta(days=2)})
    campaign = campaign_pause(campaign=campaign)
    assert job_statuses(campaign) == {"slack": "paused", "discord": "paused"}

    set_weather("london", rain_today=True)
    assert weather_holds_check() == {"released": 0, "gave_up": 0, "still_waiting": 0}, "a paused post is not released"
    assert dispatcher.dispatch_once() == {"recovered": 0}

    set_weather("london", rain_today=False)
    campaign_resume(campaign=campaign)
    assert job_statuses(campaign) == {"slack": "waiting_weather", "discord": "waiting_weather"}, \
        "resuming resumes the hold, not the publishing"
    assert dispatcher.dispatch_once() == {"recovered": 0}
    assert posted(httpserver) == []

    set_weather("london", rain_today=True)
    assert weather_holds_check()["released"] == 2
    assert dispatcher.dispatch_once()["published"] == 2


def test_a_post_released_before_the_pause_goes_back_to_the_queue_on_resume(httpserver, cities):
    set_weather("london", rain_today=True)
    campaign, _ = live_campaign(httpserver, kinds=("slack",), starts_at=timezone.now() + timedelta(hours=1), hold={
        "city": cities["london"], "condition": WeatherCondition.RAIN_TODAY,
        "give_up_at": timezone.now() + timedelta(days=2)})
    assert weather_holds_check()["released"] == 1
    campaign = campaign_resume(campaign=campaign_pause(campaign=campaign))
    assert job_statuses(campaign) == {"slack": "scheduled"}


def test_a_post_held_while_its_campaign_is_paused_stays_paused_until_resumed(httpserver, cities):
    campaign, _ = live_campaign(httpserver, kinds=("slack",), starts_at=timezone.now() + timedelta(hours=1))
    campaign = campaign_pause(campaign=campaign)
    job = campaign.jobs.get()
    job_hold_for_weather(job=job, city=cities["london"], condition=WeatherCondition.RAIN_TODAY,
                         give_up_at=timezone.now() + timedelta(days=1))
    assert job_statuses(campaign) == {"slack": "paused"}
    campaign_resume(campaign=campaign)
    assert job_statuses(campaign) == {"slack": "waiting_weather"}


def test_a_retried_held_post_waits_for_the_weather_again(httpserver, cities, settings):
    settings.PUBLISHING_MAX_RETRIES = 0  # the first refusal fails the post: a person retries it
    httpserver.expect_oneshot_request("/slack", method="POST").respond_with_data("no_service", status=404)
    job = JobFactory(channel=channel_on(httpserver, "slack"))
    set_weather("london", rain_today=True)
    job_hold_for_weather(job=job, city=cities["london"], condition=WeatherCondition.RAIN_TODAY,
                         give_up_at=timezone.now() + timedelta(days=2))
    assert weather_holds_check()["released"] == 1
    dispatcher.dispatch_once()
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED

    set_weather("london", rain_today=False)
    job_retry(job=job)
    job.refresh_from_db()
    assert job.status == JobStatus.WAITING_FOR_WEATHER and job.retries == 0 and job.error_message == ""
    assert dispatcher.dispatch_once() == {"recovered": 0}, "not published at once"
    assert weather_holds_check()["released"] == 0

    httpserver.expect_request("/slack", method="POST").respond_with_data("ok")
    set_weather("london", rain_today=True)
    assert weather_holds_check()["released"] == 1
    assert dispatcher.dispatch_once()["published"] == 1
    assert posted(httpserver) == ["/slack", "/slack"]


def test_a_held_post_that_gave_up_is_held_again_with_a_new_deadline_not_retried(httpserver, cities):
    job = JobFactory(channel=channel_on(httpserver, "slack"))
    job_hold_for_weather(job=job, city=cities["london"], condition=WeatherCondition.TEMPERATURE_ABOVE, threshold=40,
                         give_up_at=timezone.now() + timedelta(minutes=1))
    WeatherHold.objects.filter(job=job).update(give_up_at=timezone.now() - timedelta(seconds=1))
    assert weather_holds_check()["gave_up"] == 1

    with pytest.raises(ConflictError, match="hold it for the weather again with a new deadline"):
        job_retry(job=job)
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED

    job_hold_for_weather(job=job, city=cities["london"], condition=WeatherCondition.TEMPERATURE_ABOVE, threshold=40,
                         give_up_at=timezone.now() + timedelta(days=1))
    job.refresh_from_db()
    assert job.status == JobStatus.WAITING_FOR_WEATHER and job.error_message == ""


def test_a_post_that_needs_checking_after_its_hold_gave_up_can_be_held_again(httpserver, cities):
    job = JobFactory(channel=channel_on(httpserver, "slack"))
    job_hold_for_weather(job=job, city=cities["london"], condition=WeatherCondition.RAIN_TODAY,
                         give_up_at=timezone.now() + timedelta(minutes=1))
    WeatherHold.objects.filter(job=job).update(give_up_at=timezone.now() - timedelta(seconds=1))
    job.refresh_from_db()
    job.status, job.error_message = JobStatus.NEEDS_CHECKING, "The channel did not answer in time."
    job.save(update_fields=["status", "error_message"])
    with pytest.raises(ConflictError, match="hold it for the weather again"):
        job_retry(job=job)

    job_hold_for_weather(job=job, city=cities["london"], condition=WeatherCondition.RAIN_TODAY,
                         give_up_at=timezone.now() + timedelta(days=1))
    job.refresh_from_db()
    assert job.status == JobStatus.WAITING_FOR_WEATHER and job.error_message == "" and job.retries == 0


def test_a_person_stops_a_post_waiting_for_the_weather_and_it_goes_out(httpserver, cities, api_as):
    answer_posts(httpserver)
    set_weather("london", rain_today=False)
    job = JobFactory(channel=channel_on(httpserver, "slack"))
    job_hold_for_weather(job=job, city=cities["london"], condition=WeatherCondition.RAIN_TODAY,
                         give_up_at=timezone.now() + timedelta(days=2))
    marketer = api_as("Marketer")
    url = f"/api/jobs/{job.pk}/"
    assert "lift_weather_hold" in marketer.get(url).data["available_actions"]
    assert api_as("Analyst").post(url + "lift-weather-hold/").status_code == 403

    lifted = marketer.post(url + "lift-weather-hold/")
    assert lifted.status_code == 200, lifted.data
    assert lifted.data["status"] == "scheduled" and "lift_weather_hold" not in lifted.data["available_actions"]
    assert marketer.post(url + "lift-weather-hold/").status_code == 409
    assert WeatherHold.objects.get(job=job).released_at is not None
    assert "Stopped waiting for rain today in London" in JobEvent.objects.filter(job=job).latest("pk").note
    assert dispatcher.dispatch_once()["published"] == 1
    assert posted(httpserver) == ["/slack"]


def test_the_campaign_page_stops_a_post_waiting_for_the_weather(httpserver, cities, client, make_user):
    client.force_login(make_user("mia", role="Marketer"))
    job = JobFactory(channel=channel_on(httpserver, "slack"))
    job_hold_for_weather(job=job, city=cities["london"], condition=WeatherCondition.RAIN_TODAY,
                         give_up_at=timezone.now() + timedelta(days=2))
    page = client.get(job.campaign.get_absolute_url()).content.decode()
    assert 'value="lift_weather_hold"' in page
    client.post(f"/publishing/jobs/{job.pk}/action/", {"action": "lift_weather_hold"})
    job.refresh_from_db()
    assert job.status == JobStatus.SCHEDULED
    assert 'value="lift_weather_hold"' not in client.get(job.campaign.get_absolute_url()).content.decode()


def test_a_campaign_hold_is_refused_for_a_finished_campaign_and_channels_outside_it(httpserver, cities):
    campaign, _ = live_campaign(httpserver, kinds=("slack",), starts_at=timezone.now() + timedelta(hours=1))
    later = timezone.now() + timedelta(days=1)
    other = channel_on(httpserver, "discord")
    with pytest.raises(DomainError, match="Not a channel of this campaign: discord channel"):
        campaign_hold_for_weather(campaign=campaign, city=cities["london"], condition=WeatherCondition.RAIN_TODAY,
                                  give_up_at=later, channels=[other])
    campaign_cancel(campaign=campaign)
    with pytest.raises(ConflictError, match="finished campaign"):
        campaign_hold_for_weather(campaign=campaign, city=cities["london"], condition=WeatherCondition.RAIN_TODAY,
                                  give_up_at=later)


def test_a_draft_whose_hold_deadline_passed_is_not_activated(httpserver, cities):
    author = UserFactory(username="author")
    content = approve(ContentFactory(author=author, title="Umbrellas", body="Umbrellas, 20% off today."))
    campaign = campaign_create(by=author, name="Rainy day", starts_at=timezone.now(), contents=[content],
                               channels=[channel_on(httpserver, "slack")])
    campaign_hold_for_weather(campaign=campaign, city=cities["london"], condition=WeatherCondition.RAIN_TODAY,
                              give_up_at=timezone.now() + timedelta(minutes=1))
    CampaignWeatherHold.objects.update(give_up_at=timezone.now() - timedelta(seconds=1))
    with pytest.raises(DomainError) as refused:
        campaign_activate(campaign=campaign, by=author)
    assert "deadline has passed" in " ".join(refused.value.extra["problems"]["campaign"])


def test_a_duplicated_campaign_keeps_the_weather_hold_and_its_channels(httpserver, cities):
    answer_posts(httpserver)
    set_weather("london", rain_today=False)
    give_up_at = timezone.now() + timedelta(days=2)
    campaign, channels = live_campaign(httpserver, hold={
        "city": cities["london"], "condition": WeatherCondition.RAIN_TODAY, "channels": ["slack"],
        "give_up_at": give_up_at})
    copier = UserFactory(username="copier")
    copy = campaign_duplicate(campaign=campaign, by=copier)
    hold = CampaignWeatherHold.objects.get(campaign=copy)
    assert (hold.city, hold.condition, hold.give_up_at, hold.created_by) == (
        cities["london"], WeatherCondition.RAIN_TODAY, give_up_at, copier)
    assert list(hold.channels.all()) == [channels["slack"]]
    assert CampaignWeatherHold.objects.get(campaign=campaign).created_by.username == "author"

    campaign_activate(campaign=copy, by=copier)
    assert job_statuses(copy) == {"slack": "waiting_weather", "discord": "scheduled"}


def test_the_api_holds_a_campaign_for_the_weather(httpserver, cities, api_as):
    campaign, channels = live_campaign(httpserver, starts_at=timezone.now() + timedelta(hours=1))
    marketer = api_as("Marketer")
    url = f"/api/campaigns/{campaign.pk}/"
    assert "hold_for_weather" in marketer.get(url).data["available_actions"]
    body = {"city": cities["seville"].pk, "condition": "temperature_above", "give_up_at": "2999-01-01T00:00:00Z"}

    refused = marketer.post(url + "hold-for-weather/", body, format="json")
    assert refused.status_code == 400 and refused.data["extra"] == {"field": "threshold"}
    assert refused.data["message"] == "Give the temperature in °C."

    held = marketer.post(url + "hold-for-weather/", {**body, "threshold": 25, "channels": [channels["discord"].pk]},
                         format="json")
    assert held.status_code == 200, held.data
    assert held.data["channels"] == [channels["discord"].pk] and held.data["threshold"] == 25
    assert job_statuses(campaign) == {"slack": "scheduled", "discord": "waiting_weather"}
    assert api_as("Analyst").post(url + "hold-for-weather/", body, format="json").status_code == 403


def test_the_campaign_page_holds_its_posts_and_says_what_they_wait_for(httpserver, cities, client, make_user):
    client.force_login(make_user("mia", role="Marketer"))
    campaign, channels = live_campaign(httpserver, starts_at=timezone.now() + timedelta(hours=1))
    page = client.get(campaign.get_absolute_url()).content.decode()
    assert "Hold the campaign's posts for the weather" in page

    bad = client.post(f"/publishing/campaigns/{campaign.pk}/weather-hold/", {
        "city": cities["london"].pk, "condition": "temperature_below", "give_up_at": "2999-01-01T09:30"}, follow=True)
    assert "Give the temperature in °C." in bad.content.decode()
    client.post(f"/publishing/campaigns/{campaign.pk}/weather-hold/", {
        "city": cities["london"].pk, "condition": "rain_today", "give_up_at": "2999-01-01T09:30",
        "channels": [channels["slack"].pk]})

    assert job_statuses(campaign) == {"slack": "waiting_weather", "discord": "scheduled"}
    page = client.get(campaign.get_absolute_url()).content.decode()
    assert "Posts on slack channel wait for rain today in London, GB; they give up at 2999-01-01 09:30" in page
