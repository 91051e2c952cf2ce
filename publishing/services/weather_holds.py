"""Posts held until the weather in a chosen city meets a condition ("rain today", "above 25 °C").

The job waits in "waiting for the weather", out of the dispatcher's reach. Every few minutes the check
releases, in one query for all, the jobs whose city's latest reading (crm.CityWeather, refreshed hourly and
no older than WEATHER_FRESH) meets their condition: they go back to the queue, due at their scheduled time or
now, and are published by the dispatcher like any post. A job still waiting at its deadline fails with the
reason. A reading that is missing or stale holds nothing.
"""

from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from aicmo_site.errors import ConflictError, DomainError
from crm.models import CityWeather
from publishing.choices import HOLDABLE_JOB, JobStatus, WeatherCondition
from publishing.models import PublishingJob, WeatherHold
from publishing.services.jobs import _campaign_settle, job_transition

WEATHER_FRESH = timedelta(hours=3)
TEMPERATURES = (WeatherCondition.TEMPERATURE_ABOVE, WeatherCondition.TEMPERATURE_BELOW)


@transaction.atomic
def job_hold_for_weather(*, job: PublishingJob, city: CityWeather, condition: str, give_up_at: datetime,
                         threshold: float | None = None, by=None) -> WeatherHold:
    job = PublishingJob.objects.select_for_update().get(pk=job.pk)
    if job.status not in HOLDABLE_JOB:
        raise ConflictError(f"A {JobStatus(job.status).label.lower()} post cannot be held for the weather.",
                            code="not_holdable", extra={"status": job.status})
    if condition not in WeatherCondition.values:
        raise DomainError("Choose a weather condition.", code="invalid", extra={"field": "condition"})
    if condition in TEMPERATURES and threshold is None:
        raise DomainError("Give the temperature in °C.", code="invalid", extra={"field": "threshold"})
    if give_up_at <= timezone.now():
        raise DomainError("Choose a deadline still to come.", code="in_the_past", extra={"field": "give_up_at"})
    if not city.found:
        raise DomainError(f"The weather provider knows no city {city}.", code="invalid", extra={"field": "city"})
    hold, _ = WeatherHold.objects.update_or_create(job=job, defaults={
        "city": city, "condition": condition, "threshold": threshold if condition in TEMPERATURES else None,
        "give_up_at": give_up_at, "created_by": by, "released_at": None})
    job_transition(job=job, to=JobStatus.WAITING_FOR_WEATHER, by=by,
                   note=f"Held until {hold}; gives up at {timezone.localtime(give_up_at):%d %b %H:%M}")
    return hold


def _condition_holds(now: datetime) -> Q:
    fresh = Q(city__refreshed_at__gte=now - WEATHER_FRESH)
    return fresh & (
        Q(condition=WeatherCondition.RAIN_TODAY, city__rain_today=True)
        | Q(condition=WeatherCondition.NO_RAIN_TODAY, city__rain_today=False)
        | Q(condition=WeatherCondition.TEMPERATURE_ABOVE, city__temperature_c__gt=F("threshold"))
        | Q(condition=WeatherCondition.TEMPERATURE_BELOW, city__temperature_c__lt=F("threshold")))


def weather_holds_check() -> dict:
    """Releases the held posts whose weather came, fails those past their deadline; returns the counts."""
    now = timezone.now()
    waiting = WeatherHold.objects.filter(job__status=JobStatus.WAITING_FOR_WEATHER)
    released = failed = 0
    for hold in waiting.filter(_condition_holds(now)).select_related("city"):
        with transaction.atomic():
            job = PublishingJob.objects.select_for_update().get(pk=hold.job_id)
            if job.status != JobStatus.WAITING_FOR_WEATHER:
                continue
            job_transition(job=job, to=JobStatus.SCHEDULED, by_system="weather",
                           note=f"The weather came: {hold}", due_at=max(job.scheduled_at, now))
            WeatherHold.objects.filter(pk=hold.pk).update(released_at=now)
            released += 1
    for hold in waiting.exclude(_condition_holds(now)).filter(give_up_at__lte=now).select_related("city"):
        with transaction.atomic():
            job = PublishingJob.objects.select_for_update().get(pk=hold.job_id)
            if job.status != JobStatus.WAITING_FOR_WEATHER:
                continue
            reason = (f"Gave up waiting for the weather at {timezone.localtime(hold.give_up_at):%d %b %H:%M}: "
                      f"no {hold} by then.")
            job_transition(job=job, to=JobStatus.FAILED, by_system="weather", note=reason, error_message=reason)
            _campaign_settle(job.campaign_id)
            failed += 1
    return {"released": released, "gave_up": failed, "still_waiting": waiting.count()}
