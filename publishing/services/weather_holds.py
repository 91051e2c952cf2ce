"""Posts held until the weather in a chosen city meets a condition ("rain today", "above 25 °C").

The job waits in "waiting for the weather", out of the dispatcher's reach. Every few minutes the check
releases, in one query for all, the jobs whose city's latest reading (crm.CityWeather, refreshed hourly and
no older than WEATHER_FRESH) meets their condition: they go back to the queue, due at their scheduled time or
now, and are published by the dispatcher (woken at once) like any post. A job still waiting at its deadline
fails with the reason. A reading that is missing or stale holds nothing.

A campaign's hold (CampaignWeatherHold) gives each of its posts such a hold. A paused campaign pauses its
waiting posts and, resumed, sends them back to waiting; a post retried by a person waits again.
"""

from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from aicmo_site.errors import ConflictError, DomainError
from crm.models import CityWeather
from publishing.choices import DUE_JOB, HOLDABLE_JOB, JobStatus, WeatherCondition
from publishing.models import Campaign, CampaignWeatherHold, JobEvent, PublishingJob, WeatherHold
from publishing.services.jobs import (
    RETRY_RESET,
    _campaign_settle,
    dispatcher_wake,
    job_transition,
    jobs_bulk_transition,
)

WEATHER_FRESH = timedelta(hours=3)
TEMPERATURES = (WeatherCondition.TEMPERATURE_ABOVE, WeatherCondition.TEMPERATURE_BELOW)


def _rule_check(*, city: CityWeather, condition: str, give_up_at: datetime, threshold: float | None) -> float | None:
    """The threshold to store (None but for the temperature conditions), or the field error."""
    if condition not in WeatherCondition.values:
        raise DomainError("Choose a weather condition.", code="invalid", extra={"field": "condition"})
    if condition in TEMPERATURES and threshold is None:
        raise DomainError("Give the temperature in °C.", code="invalid", extra={"field": "threshold"})
    if give_up_at <= timezone.now():
        raise DomainError("Choose a deadline still to come.", code="in_the_past", extra={"field": "give_up_at"})
    if not city.found:
        raise DomainError(f"The weather provider knows no city {city}.", code="invalid", extra={"field": "city"})
    return threshold if condition in TEMPERATURES else None


@transaction.atomic
def job_hold_for_weather(*, job: PublishingJob, city: CityWeather, condition: str, give_up_at: datetime,
                         threshold: float | None = None, by=None) -> WeatherHold:
    """A paused post keeps its pause (its campaign is paused) and waits for the weather once resumed; a
    failed one (its earlier hold gave up) waits again with the new deadline."""
    job = PublishingJob.objects.select_for_update().get(pk=job.pk)
    if job.status not in HOLDABLE_JOB:
        raise ConflictError(f"A {JobStatus(job.status).label.lower()} post cannot be held for the weather.",
                            code="not_holdable", extra={"status": job.status})
    threshold = _rule_check(city=city, condition=condition, give_up_at=give_up_at, threshold=threshold)
    hold, _ = WeatherHold.objects.update_or_create(job=job, defaults={
        "city": city, "condition": condition, "threshold": threshold, "give_up_at": give_up_at, "created_by": by,
        "released_at": None})
    note = f"Held until {hold}; gives up at {timezone.localtime(give_up_at):%d %b %H:%M}"
    if job.status == JobStatus.PAUSED:
        JobEvent.objects.create(job=job, from_status=job.status, to_status=job.status, by=by,
                                note=f"{note}; waits for it once its campaign resumes")
        return hold
    fields = RETRY_RESET if job.status in (JobStatus.FAILED, JobStatus.NEEDS_CHECKING) else {}
    job_transition(job=job, to=JobStatus.WAITING_FOR_WEATHER, by=by, note=note, **fields)
    return hold


@transaction.atomic
def job_weather_hold_lift(*, job: PublishingJob, by=None) -> PublishingJob:
    """A person stops a post waiting for the weather: it goes back to the queue at its time (now if that has
    passed). The hold is kept, marked released, so the post's history says what it waited for."""
    job = PublishingJob.objects.select_for_update().get(pk=job.pk)
    if job.status != JobStatus.WAITING_FOR_WEATHER:
        raise ConflictError("Only a post waiting for the weather can stop waiting for it.", code="not_waiting",
                            extra={"status": job.status})
    now = timezone.now()
    hold = WeatherHold.objects.filter(job=job).select_related("city").first()
    job = job_transition(job=job, to=JobStatus.SCHEDULED, by=by, due_at=max(job.scheduled_at, now),
                         note=f"Stopped waiting for {hold}" if hold else "Stopped waiting for the weather")
    WeatherHold.objects.filter(job=job).update(released_at=now)
    dispatcher_wake()
    return job


@transaction.atomic
def campaign_hold_for_weather(*, campaign: Campaign, city: CityWeather, condition: str, give_up_at: datetime,
                              threshold: float | None = None, channels=(), by=None) -> CampaignWeatherHold:
    """Hold every post of the campaign (or those on `channels`) until the weather: a draft's posts are held
    when it is activated, a live campaign's posts not yet started are held now. A post already waiting for
    a weather of its own keeps it."""
    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    if campaign.is_finished:
        raise ConflictError("A finished campaign cannot be held for the weather.", code="not_holdable",
                            extra={"status": campaign.status})
    threshold = _rule_check(city=city, condition=condition, give_up_at=give_up_at, threshold=threshold)
    outside = sorted(channel.name for channel in set(channels) - set(campaign.channels.all()))
    if outside:
        raise DomainError(f"Not a channel of this campaign: {', '.join(outside)}.", code="invalid",
                          extra={"field": "channels"})
    hold, _ = CampaignWeatherHold.objects.update_or_create(campaign=campaign, defaults={
        "city": city, "condition": condition, "threshold": threshold, "give_up_at": give_up_at, "created_by": by})
    hold.channels.set(channels)
    campaign_weather_hold_apply(campaign=campaign, by=by)
    return hold


def campaign_weather_hold_apply(*, campaign: Campaign, by=None) -> int:
    """Gives each post of the campaign not yet started, within the hold's channels, the campaign's hold
    (set-based); the scheduled and queued ones start waiting, the paused ones wait once resumed."""
    hold = CampaignWeatherHold.objects.filter(campaign=campaign).select_related("city").first()
    if hold is None:
        return 0
    jobs = PublishingJob.objects.filter(campaign=campaign, status__in=(*DUE_JOB, JobStatus.PAUSED))
    channel_ids = list(hold.channels.values_list("pk", flat=True))
    if channel_ids:
        jobs = jobs.filter(channel_id__in=channel_ids)
    # Locked so that no dispatcher claims a post between its hold and its move to waiting.
    ids = list(jobs.select_for_update().values_list("pk", flat=True))
    WeatherHold.objects.filter(job_id__in=ids).delete()
    WeatherHold.objects.bulk_create(
        WeatherHold(job_id=pk, city=hold.city, condition=hold.condition, threshold=hold.threshold,
                    give_up_at=hold.give_up_at, created_by=by) for pk in ids)
    return jobs_bulk_transition(
        queryset=PublishingJob.objects.filter(pk__in=ids), sources=DUE_JOB, to=JobStatus.WAITING_FOR_WEATHER,
        by=by, note=f"Campaign held until {hold}; gives up at {timezone.localtime(hold.give_up_at):%d %b %H:%M}")


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
    if released:
        dispatcher_wake()
    return {"released": released, "gave_up": failed, "still_waiting": waiting.count()}
