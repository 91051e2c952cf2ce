"""Campaigns: create, activate (one job per content and channel), pause, resume, cancel, complete."""

from django.db import transaction
from django.db.models import Exists, OuterRef, Prefetch, Q
from django.utils import timezone

from aicmo_site.errors import ConflictError, DomainError
from gateways.readiness import Readiness, account_readiness
from publishing.choices import (
    PUBLISHABLE_CONTENT,
    CampaignStatus,
    ContentStatus,
    JobStatus,
)
from publishing.models import Campaign, CampaignContent, CampaignWeatherHold, Channel, PublishingJob, WeatherHold
from publishing.services.campaign_workflow import campaign_transition
from publishing.services.content import content_transition
from publishing.services.jobs import dispatcher_wake, jobs_bulk_transition
from publishing.services.versions import version_errors, versions_generate
from publishing.services.weather_holds import campaign_weather_hold_apply

AUDIENCE_KEYS = ("contact_ids", "tag_ids", "domains", "segment_ids", "list_ids", "exclude_segment_ids",
                 "exclude_list_ids")


def _clean_audience(audience: dict | None) -> dict:
    audience = dict(audience or {})
    unknown = set(audience) - set(AUDIENCE_KEYS)
    if unknown:
        raise DomainError(f"Unknown audience keys: {', '.join(sorted(unknown))}.", code="invalid_audience",
                          extra={"allowed": list(AUDIENCE_KEYS)})
    return {key: list(audience.get(key) or []) for key in AUDIENCE_KEYS if audience.get(key)}


def _set_contents(campaign: Campaign, contents) -> None:
    """`contents`: Content objects, (content, publish_at) pairs or (content, publish_at, channels)
    triples; no channels means every channel of the campaign."""
    CampaignContent.objects.filter(campaign=campaign).delete()
    rows, channels_of = [], []
    for item in contents:
        content, publish_at, channels = (*(item if isinstance(item, tuple) else (item,)), None, None)[:3]
        rows.append(CampaignContent(campaign=campaign, content=content, publish_at=publish_at))
        channels_of.append(list(channels or ()))
    CampaignContent.objects.bulk_create(rows)
    links = [CampaignContent.channels.through(campaigncontent_id=row.pk, channel_id=getattr(channel, "pk", channel))
             for row, channels in zip(rows, channels_of, strict=True) for channel in channels]
    CampaignContent.channels.through.objects.bulk_create(links)


def _entries(campaign: Campaign) -> list[CampaignContent]:
    """The campaign's contents, each with `posted_on`: its own channels, or else the campaign's."""
    # Readiness reads each channel's account and its health: fetched with the channels.
    channels = list(campaign.channels.select_related("provider_account__health"))
    entries = list(CampaignContent.objects.filter(campaign=campaign).select_related("content").prefetch_related(
        Prefetch("channels", queryset=Channel.objects.select_related("provider_account__health"))))
    for entry in entries:
        entry.posted_on = list(entry.channels.all()) or channels
    return entries


UTM_FIELDS = frozenset({"utm_enabled", "utm_source", "utm_medium", "utm_campaign"})


@transaction.atomic
def campaign_create(*, by, name: str, description: str = "", starts_at=None, ends_at=None, contents=(),
                    channels=(), audience: dict | None = None, budget=0, bid_settings: dict | None = None,
                    reading_grade: int | None = None, **utm) -> Campaign:
    """`utm`: utm_enabled, utm_source, utm_medium, utm_campaign (see the model)."""
    unknown = set(utm) - UTM_FIELDS
    if unknown:
        raise TypeError(f"campaign_create() got unexpected {', '.join(sorted(unknown))}")
    campaign = Campaign(name=name, description=description, starts_at=starts_at, ends_at=ends_at,
                        audience=_clean_audience(audience), budget=budget, bid_settings=bid_settings or {},
                        reading_grade=reading_grade, created_by=by, **utm)
    if starts_at and ends_at and ends_at < starts_at:
        raise DomainError("The campaign ends before it starts.", code="invalid_dates", extra={"field": "ends_at"})
    campaign.full_clean()
    campaign.save()
    _set_contents(campaign, contents)
    campaign.channels.set(channels)
    return campaign


@transaction.atomic
def campaign_update(*, campaign: Campaign, by=None, contents=None, channels=None, **fields) -> Campaign:
    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    if campaign.status != CampaignStatus.DRAFT:
        raise ConflictError("Only a draft campaign can be changed; pause or cancel it instead.", code="not_draft")
    if "audience" in fields:
        fields["audience"] = _clean_audience(fields["audience"])
    for name, value in fields.items():
        setattr(campaign, name, value)
    campaign.full_clean()
    campaign.save()
    if contents is not None:
        _set_contents(campaign, contents)
    if channels is not None:
        campaign.channels.set(channels)
    return campaign


def campaign_channels_readiness(channels: list[Channel]) -> dict[str, Readiness]:
    """The channels whose provider cannot post, by name. A manual channel is ready (a person posts
    its drafts); a placeholder, a disabled account or one that is down is not. A channel without an
    account (the website, a channel posted by hand) needs no provider."""
    unready = {}
    for channel in channels:
        if channel.provider_account is not None:
            readiness = account_readiness(channel.provider_account, manual_ok=True)
            if not readiness.ready:
                unready[channel.name] = readiness
    return unready


@transaction.atomic
def campaign_duplicate(*, campaign: Campaign, by) -> Campaign:
    """A new draft with the same plan (goal, dates, audience, contents and their times, channels, weather
    hold); the jobs, results and history stay with the original. A hold whose deadline has passed is copied
    too: the draft's check asks for a new deadline before it can be activated."""
    contents = [(entry.content, entry.publish_at, list(entry.channels.all()))
                for entry in campaign.campaign_contents.select_related("content").prefetch_related("channels")]
    copy = campaign_create(by=by, name=f"Copy of {campaign.name}"[:200], description=campaign.description,
                           starts_at=campaign.starts_at, ends_at=campaign.ends_at, contents=contents,
                           channels=list(campaign.channels.all()), audience=campaign.audience,
                           budget=campaign.budget, bid_settings=campaign.bid_settings,
                           reading_grade=campaign.reading_grade,
                           **{name: getattr(campaign, name) for name in UTM_FIELDS})
    hold = CampaignWeatherHold.objects.filter(campaign=campaign).first()
    if hold is not None:
        channels = list(hold.channels.all())
        hold.pk, hold.id, hold.campaign, hold.created_by = None, None, copy, by
        hold._state.adding = True
        hold.save()
        hold.channels.set(channels)
    return copy


def campaign_check(campaign: Campaign) -> dict[str, list[str]]:
    """What stops the campaign from going out, per content and channel (empty when ready)."""
    problems: dict[str, list[str]] = {}
    entries = _entries(campaign)
    channels = list({channel for entry in entries for channel in entry.posted_on}
                    or campaign.channels.select_related("provider_account__health"))
    if not entries:
        problems["campaign"] = ["Add at least one content."]
    if not channels:
        problems.setdefault("campaign", []).append("Choose at least one channel.")
    inactive = [c.name for c in channels if not c.active]
    if inactive:
        problems.setdefault("campaign", []).append(f"Inactive channels: {', '.join(inactive)}.")
    for name, readiness in campaign_channels_readiness(channels).items():
        problems.setdefault("campaign", []).append(f"{name}: {readiness.reason}")
    hold = CampaignWeatherHold.objects.filter(campaign=campaign).first()
    if hold is not None and hold.give_up_at <= timezone.now():
        problems.setdefault("campaign", []).append(
            "The weather hold's deadline has passed: set a new one or every held post would fail at once.")
    if not campaign.starts_at and any(e.publish_at is None for e in entries):
        problems.setdefault("campaign", []).append("Set a start time or a time for each content.")
    for entry in entries:
        content = entry.content
        if content.status not in PUBLISHABLE_CONTENT:
            problems[f"{content.title}"] = [f"Not approved yet ({ContentStatus(content.status).label})."]
            continue
        when = entry.publish_at or campaign.starts_at
        for version in versions_generate(content=content, kinds=sorted({c.kind for c in entry.posted_on})):
            errors = version_errors(version, on_day=timezone.localdate(when) if when else None)
            if errors:
                problems[f"{content.title} / {version.kind}"] = errors
    return problems


@transaction.atomic
def campaign_activate(*, campaign: Campaign, by=None) -> Campaign:
    """Create one job per content and channel at its time; the database refuses a second one."""
    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    if campaign.status != CampaignStatus.DRAFT:
        raise ConflictError("Only a draft campaign can be activated.", code="not_draft")
    problems = campaign_check(campaign)
    if problems:
        unready = campaign_channels_readiness(list(campaign.channels.select_related("provider_account__health")))
        raise DomainError("The campaign is not ready to go out.", code="not_ready", extra={
            "problems": problems, "fix_url": next(iter(unready.values())).fix_url if unready else ""})
    now = timezone.now()
    entries = _entries(campaign)
    versions = {(v.content_id, v.kind): v for v in versions_generate_for(entries=entries)}
    jobs = []
    for entry in entries:
        when = entry.publish_at or campaign.starts_at
        for channel in entry.posted_on:
            jobs.append(PublishingJob(campaign=campaign, content=entry.content, channel=channel,
                                      version=versions[(entry.content_id, channel.kind)], scheduled_at=when,
                                      due_at=when, urgent=entry.content.urgent))
    PublishingJob.objects.bulk_create(jobs)
    held = campaign_weather_hold_apply(campaign=campaign, by=by)
    for entry in entries:
        if entry.content.status == ContentStatus.APPROVED:
            content_transition(content=entry.content, to=ContentStatus.SCHEDULED, by=by, action="scheduled",
                               note=f"In campaign {campaign.name}")
    first = min(job.scheduled_at for job in jobs)
    to = CampaignStatus.RUNNING if first <= now else CampaignStatus.SCHEDULED
    note = f"{len(jobs)} jobs created" + (f", {held} held for the weather" if held else "")
    campaign = campaign_transition(campaign=campaign, to=to, by=by, note=note, activated_at=now)
    dispatcher_wake()
    return campaign


def versions_generate_for(*, entries) -> list:
    versions = []
    for entry in entries:
        versions += versions_generate(content=entry.content, kinds=sorted({c.kind for c in entry.posted_on}))
    return versions


@transaction.atomic
def campaign_pause(*, campaign: Campaign, by=None, note: str = "") -> Campaign:
    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    campaign = campaign_transition(campaign=campaign, to=CampaignStatus.PAUSED, by=by, note=note)
    jobs_bulk_transition(queryset=campaign.jobs.all(),
                         sources=(JobStatus.SCHEDULED, JobStatus.QUEUED, JobStatus.WAITING_FOR_WEATHER),
                         to=JobStatus.PAUSED, by=by, note="Campaign paused")
    return campaign


@transaction.atomic
def campaign_resume(*, campaign: Campaign, by=None, note: str = "") -> Campaign:
    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    if campaign.status != CampaignStatus.PAUSED:
        raise ConflictError("Only a paused campaign can be resumed.", code="not_paused")
    now = timezone.now()
    running = campaign.jobs.filter(~Q(status=JobStatus.PAUSED) | Q(scheduled_at__lte=now)).exists()
    campaign = campaign_transition(campaign=campaign, to=CampaignStatus.RUNNING if running else
                                   CampaignStatus.SCHEDULED, by=by, note=note)
    # A post whose weather has not come yet goes back to waiting for it, not to the queue.
    still_held = Exists(WeatherHold.objects.filter(job=OuterRef("pk"), released_at=None))
    jobs_bulk_transition(queryset=campaign.jobs.filter(still_held), sources=(JobStatus.PAUSED,),
                         to=JobStatus.WAITING_FOR_WEATHER, by=by, note="Campaign resumed: waits for the weather again")
    jobs_bulk_transition(queryset=campaign.jobs.all(), sources=(JobStatus.PAUSED,), to=JobStatus.SCHEDULED, by=by,
                         note="Campaign resumed")
    dispatcher_wake()
    return campaign


@transaction.atomic
def campaign_cancel(*, campaign: Campaign, by=None, note: str = "") -> Campaign:
    """Jobs not yet out are canceled; a job being posted right now finishes and is recorded."""
    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    campaign = campaign_transition(campaign=campaign, to=CampaignStatus.CANCELED, by=by, note=note)
    # Every job not out yet nor being posted: the table says which (a publishing one finishes first).
    jobs_bulk_transition(queryset=campaign.jobs.all(), sources=None, to=JobStatus.CANCELED, by=by,
                         note="Campaign canceled")
    return campaign
