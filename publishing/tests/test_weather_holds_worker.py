"""A campaign held for the weather, with a real django-q2 worker running the scheduled weather check and
the dispatcher it wakes: a paused campaign's held posts stay back even when the weather comes, resuming
sends them back to waiting (not out), and the next check after the weather came publishes each once."""

from datetime import timedelta

import pytest
from django.utils import timezone
from django_q.tasks import async_task, fetch

from aicmo_site.testing.worker import wait_for
from publishing.choices import JobStatus, WeatherCondition
from publishing.services import campaign_pause, campaign_resume
from publishing.tests.weather import answer_posts, job_statuses, live_campaign, posted, refreshed_cities, set_weather

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]
FAST = {"PUBLISHING_BACKOFF_BASE_SECONDS": "0.2", "PUBLISHING_DISPATCH_POLL_SECONDS": "0.2"}


@pytest.fixture
def worker(qcluster):
    started = []
    yield lambda: started.append(qcluster(**FAST))
    for cluster in started:
        cluster.kill()


def run_on_worker(func: str):
    """Enqueue a task as the scheduler does and wait until the worker has run it; its result."""
    task_id = async_task(func, group="publishing")
    task = wait_for(lambda: fetch(task_id), timeout=120, message=f"the worker to run {func}")
    assert task.success, task.result
    return task.result


def test_a_paused_held_campaign_waits_again_on_resume_and_goes_out_once_the_weather_comes(worker, httpserver):
    cities = refreshed_cities(httpserver)
    answer_posts(httpserver)
    set_weather("london", rain_today=False)
    campaign, _ = live_campaign(httpserver, hold={
        "city": cities["london"], "condition": WeatherCondition.RAIN_TODAY,
        "give_up_at": timezone.now() + timedelta(days=2)})
    worker()

    run_on_worker("publishing.tasks.weather_holds_check_task")
    run_on_worker("publishing.tasks.dispatch_due")
    assert job_statuses(campaign) == {"slack": "waiting_weather", "discord": "waiting_weather"}

    campaign = campaign_pause(campaign=campaign)
    set_weather("london", rain_today=True)
    run_on_worker("publishing.tasks.weather_holds_check_task")
    run_on_worker("publishing.tasks.dispatch_due")
    assert job_statuses(campaign) == {"slack": "paused", "discord": "paused"}

    campaign_resume(campaign=campaign)  # wakes the dispatcher, which finds nothing due
    run_on_worker("publishing.tasks.dispatch_due")
    assert job_statuses(campaign) == {"slack": "waiting_weather", "discord": "waiting_weather"}
    assert posted(httpserver) == []

    run_on_worker("publishing.tasks.weather_holds_check_task")  # releases both and wakes the dispatcher
    wait_for(lambda: set(job_statuses(campaign).values()) == {JobStatus.PUBLISHED}, timeout=120,
             message="both held posts published")
    assert sorted(posted(httpserver)) == ["/discord", "/slack"]
