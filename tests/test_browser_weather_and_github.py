"""On a phone: a marketer holds a post for the weather from the campaign page, and reads a watched GitHub
repository's trend with its release marked; both fit 390 px and pass axe."""

import datetime as dt

import pytest
from django.utils import timezone

from crm.models import CityWeather, RepositoryRelease, RepositorySnapshot
from crm.services import repository_watch
from publishing.choices import JobStatus
from publishing.models import PublishingJob
from publishing.tests.factories import JobFactory
from tests.browser import PASSWORD, axe_violations, horizontal_overflow, log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_post_is_held_for_the_weather_and_a_repository_trend_read_on_a_phone(live_server, browser, make_user):
    make_user("mia", role="Marketer", password=PASSWORD)
    CityWeather.objects.create(city_key="seville", country_key="es", city="Seville", country="ES", found=True,
                               lat=37.39, lon=-5.98, geocoded_at=timezone.now())
    job = JobFactory(scheduled_at=timezone.now() + dt.timedelta(hours=3),
                     due_at=timezone.now() + dt.timedelta(hours=3))
    repository = repository_watch(full_name="octocat/Hello-World")
    today = timezone.localdate()
    for n, stars in enumerate((70, 90)):
        RepositorySnapshot.objects.create(repository=repository, day=today - dt.timedelta(days=1 - n), stars=stars,
                                          forks=1, watchers=1, open_issues=0, releases=1, views=None, clones=None,
                                          traffic_available=False)
    RepositoryRelease.objects.create(repository_name="octocat/Hello-World", tag="v2.0", source="webhook",
                                     published_at=timezone.now())
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    log_in(page, live_server.url, "mia", job.campaign.get_absolute_url())
    # The post's own hold, in the jobs table (the campaign-wide hold has the same fields above it).
    page.click("#jobs >> text=Hold for the weather")
    page.select_option("#jobs select[name=condition]", "temperature_above")
    page.fill("#jobs input[name=threshold]", "25")
    page.fill("#jobs input[name=give_up_at]",
              (timezone.localtime() + dt.timedelta(days=2)).strftime("%Y-%m-%dT%H:%M"))
    page.click("button[value=hold_for_weather]")
    page.wait_for_selector("[data-weather-hold]")
    assert "temperature above 25 °C in Seville, ES" in page.locator("[data-weather-hold]").inner_text()
    assert PublishingJob.objects.get(pk=job.pk).status == JobStatus.WAITING_FOR_WEATHER
    problems = [f"campaign: {v}" for v in axe_violations(page)]
    assert horizontal_overflow(page) <= 0

    page.goto(f"{live_server.url}/analytics/github/")
    page.wait_for_selector("#github-table")
    assert "octocat/Hello-World v2.0" in page.locator("#github-table").inner_text()
    page.wait_for_selector("canvas[data-drawn=true]")
    problems += [f"github: {v}" for v in axe_violations(page)]
    assert horizontal_overflow(page) <= 0
    context.close()
    assert not problems, "\n".join(problems)
