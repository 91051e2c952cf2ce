"""Sudden drops and spikes in the daily figures, measured against the same weekday of the weeks before.

A day is compared with the median of the same weekday over the previous `weeks` weeks, and its
distance (on the log scale) is counted in robust units: 1.4826 × the median absolute deviation (one unit
is one standard deviation for normal noise). Unlike a mean and a standard deviation, a median and a MAD are not dragged
by the very anomalies they look for, and comparing Tuesdays with Tuesdays takes out the weekly rhythm of
marketing figures (quiet weekends, Monday sends).

False alarms are kept down three ways:
- thin data never alarms: fewer than `min_history` comparable days, or an expected level below the
  series' floor (a drop from 3 bounces to 0 is not news);
- the unit never falls below the counting noise of the level (Poisson for counts, binomial for rates)
  nor below `min_relative` (8 calm Tuesdays can give a MAD of about 0);
- a change must also be large in itself (`min_change` of the expected value).
"""

from __future__ import annotations

import datetime as dt
import json
import math
import statistics
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Count
from django.db.models.functions import TruncDate
from django.utils import timezone

from aicmo_site.env import env_str
from analytics.reports.measures import METRICS, derived, empty_totals, rolled_up
from analytics.services.zones import team_zone
from gateways.models import ProviderHealth
from publishing.choices import CampaignStatus, JobStatus
from publishing.email.choices import SendStatus
from publishing.email.models import EmailCampaignEvent
from publishing.models import CampaignEvent, JobEvent

MAD_TO_SIGMA = 1.4826


@dataclass(frozen=True)
class Series:
    key: str
    label: str
    kind: str  # count, money or rate
    floor: float  # expected level below which the series cannot alarm
    denominator: str = ""  # for a rate: the count it is a share of


SERIES = {s.key: s for s in [
    Series("sent", "Emails and posts sent", "count", 20),
    Series("open_rate", "Opens per email delivered", "rate", 0, denominator="delivered"),
    Series("click_through_rate", "Clicks per email delivered or post seen", "rate", 0, denominator="exposures"),
    Series("clicks", "Traffic from tracked links (clicks)", "count", 20),
    Series("bounces", "Bounces", "count", 5),
    Series("complaints", "Complaints", "count", 2),
    Series("unsubscribes", "Unsubscribes", "count", 5),
    Series("publishing_failures", "Publishing failures", "count", 2),
    Series("conversions", "Conversions", "count", 5),
    Series("revenue", "Revenue", "money", 50),
]}


@dataclass(frozen=True)
class Settings:
    threshold: float = 4.0  # robust units from the expected value
    weeks: int = 8
    min_history: int = 4  # comparable days needed
    min_change: float = 0.3  # and at least this share of the expected value
    min_relative: float = 0.05  # the unit is at least this share of the expected value
    min_denominator: int = 200  # a rate needs this many delivered (or seen) a day to be judged


def detector_settings() -> Settings:
    """ANALYTICS_ANOMALY_SETTINGS in Django settings, or the same as JSON in the environment."""
    configured = getattr(settings, "ANALYTICS_ANOMALY_SETTINGS", None)
    if configured is None:
        raw = env_str("ANALYTICS_ANOMALY_SETTINGS")
        configured = json.loads(raw) if raw else {}
    return Settings(**configured)


@dataclass(frozen=True)
class Anomaly:
    series: str
    day: dt.date  # or, for an hourly series, the hour's local start (a naive datetime)
    value: float
    expected: float
    units: float  # robust units, signed: negative for a drop
    change: float  # (value - expected) / expected

    @property
    def direction(self) -> str:
        return "spike" if self.units > 0 else "drop"


def _log_noise_floor(kind: str, expected: float, denominator: float | None) -> float:
    """The counting noise of the level, on the log scale: what a perfectly steady series still varies by."""
    if kind == "rate":
        share = min(max(expected, 1e-6), 1.0)
        return math.sqrt((1 - share) / (share * denominator)) if denominator else 0.0
    if kind == "count":
        return 1 / math.sqrt(max(expected, 1.0))
    return 0.0


def detect(values: dict[dt.date, float | None], *, kind: str = "count", floor: float = 0.0,
           denominators: dict[dt.date, float] | None = None, days=None,
           config: Settings | None = None) -> list[Anomaly]:
    """The anomalous days among `days` (default: every day of `values`) of one daily series. A day
    missing from `values` counts as 0 for counts and money, and as no figure (skipped) for rates.

    Distances are taken on the log scale, where marketing figures vary by a share of their level (a
    send to a list that grew by 10% gets about 10% more opens) and a drop to a tenth is as far as a
    spike to ten times."""
    config = config or Settings()
    anomalies = []
    known = [day for day, value in values.items() if value is not None]
    if not known:
        return anomalies
    first = min(known)  # before its first figure a series has no history, not a history of zeros
    for day in sorted(days if days is not None else values):
        value = _at(values, day, kind, first)
        if value is None:
            continue
        denominator = (denominators or {}).get(day) if kind == "rate" else None
        if kind == "rate" and (denominator or 0) < config.min_denominator:
            continue
        history = [v for v in (_at(values, day - dt.timedelta(weeks=w), kind, first)
                               for w in range(1, config.weeks + 1)) if v is not None]
        if len(history) < config.min_history:
            continue
        expected = statistics.median(history)
        if expected < floor and value <= expected:
            continue  # a drop from almost nothing is not news; a spike from it may be
        shift = 1e-4 if kind == "rate" else 1.0  # keeps log() finite at zero
        logs = [math.log(v + shift) for v in history]
        centre = statistics.median(logs)
        spread = MAD_TO_SIGMA * statistics.median(abs(v - centre) for v in logs)
        unit = max(spread, _log_noise_floor(kind, expected, denominator), config.min_relative)
        units = (math.log(value + shift) - centre) / unit
        change = (value - expected) / expected if expected else math.inf
        if abs(units) >= config.threshold and abs(change) >= config.min_change:
            anomalies.append(Anomaly(series="", day=day, value=value, expected=expected, units=units,
                                     change=change))
    return anomalies


def _at(values: dict, day: dt.date, kind: str, first: dt.date) -> float | None:
    if day < first:
        return None
    if day in values:
        value = values[day]
        return None if value is None else float(value)
    return None if kind == "rate" else 0.0


def _daily_figures(start: dt.date, end: dt.date) -> tuple[dict[str, dict], dict[str, dict]]:
    """{series: {day: value}} and {series: {day: denominator}} from the roll-ups (one cached query) and
    the publishing failures (one grouped query)."""
    found = rolled_up(periods={"window": (start, end)}, group_by=("day",))["window"]
    values: dict[str, dict] = {key: {} for key in SERIES}
    denominators: dict[str, dict] = {"open_rate": {}, "click_through_rate": {}}
    for (day,), totals in found.items():
        totals = {**empty_totals(), **totals}
        rates = derived(totals)
        delivered = totals["delivered"] or max(totals["sent"] - totals["bounces"], 0)
        for key in ("sent", "clicks", "bounces", "complaints", "unsubscribes", "conversions", "revenue"):
            values[key][day] = float(totals[key])
        values["open_rate"][day] = rates["open_rate"]
        values["click_through_rate"][day] = rates["click_through_rate"]
        denominators["open_rate"][day] = delivered
        denominators["click_through_rate"][day] = delivered + totals["impressions"]
    zone = team_zone()
    failures = (JobEvent.objects.filter(to_status=JobStatus.FAILED,
                                        created_at__gte=dt.datetime.combine(start, dt.time.min, zone),
                                        created_at__lt=dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min,
                                                                           zone))
                .annotate(day=TruncDate("created_at", tzinfo=zone)).values("day").annotate(n=Count("id")).order_by())
    values["publishing_failures"] = {row["day"]: float(row["n"]) for row in failures}
    return values, denominators


def anomalies_between(start: dt.date, end: dt.date, *, series: tuple[str, ...] | None = None,
                      config: Settings | None = None) -> list[Anomaly]:
    """Every anomaly of the watched series on the days from `start` to `end`, newest first. Today is never
    judged: it is not over, so it would always look like a drop."""
    config = config or detector_settings()
    end = min(end, timezone.now().astimezone(team_zone()).date() - dt.timedelta(days=1))
    if end < start:
        return []
    history_start = start - dt.timedelta(weeks=config.weeks)
    values, denominators = _daily_figures(history_start, end)
    days = [start + dt.timedelta(days=n) for n in range((end - start).days + 1)]
    found = []
    for key in series or tuple(SERIES):
        spec = SERIES[key]
        for anomaly in detect(values[key], kind=spec.kind, floor=spec.floor, denominators=denominators.get(key),
                              days=days, config=config):
            found.append(Anomaly(series=key, day=anomaly.day, value=anomaly.value, expected=anomaly.expected,
                                 units=anomaly.units, change=anomaly.change))
    return sorted(found, key=lambda a: (a.day, abs(a.units)), reverse=True)


def likely_causes(days: set[dt.date]) -> dict[dt.date, list[str]]:
    """What the product knows happened on those days: sends and campaigns paused, providers failing."""
    if not days:
        return {}
    zone = team_zone()
    first = dt.datetime.combine(min(days), dt.time.min, zone)
    last = dt.datetime.combine(max(days) + dt.timedelta(days=1), dt.time.min, zone)
    causes: dict[dt.date, list[str]] = {day: [] for day in days}

    def add(when, text):
        day = when.astimezone(zone).date()
        if day in causes and text not in causes[day]:
            causes[day].append(text)

    for event in (EmailCampaignEvent.objects.filter(to_status=SendStatus.PAUSED, created_at__gte=first,
                                                    created_at__lt=last).select_related("email_campaign__campaign")[:50]):
        add(event.created_at, f"Email send of “{event.email_campaign.campaign.name}” was paused")
    for event in (CampaignEvent.objects.filter(to_status=CampaignStatus.PAUSED, created_at__gte=first,
                                               created_at__lt=last).select_related("campaign")[:50]):
        add(event.created_at, f"Campaign “{event.campaign.name}” was paused")
    for health in (ProviderHealth.objects.filter(opened_at__gte=first, opened_at__lt=last)
                   .select_related("account")[:50]):
        add(health.opened_at, f"Provider {health.account.name} failed (its circuit breaker opened)")
    return causes


def anomalies_report(*, start: dt.date, end: dt.date) -> dict:
    """The unusual days of every watched series in the period, with what is known to have caused them."""
    return {"start": start, "end": end, "resolution": "day", "anomalies": anomaly_rows(anomalies_between(start, end))}


def anomaly_rows(found: list[Anomaly]) -> list[dict]:
    """Anomalies as the API, pages and CSV show them. An hourly anomaly's `day` is its hour (a datetime):
    its likely causes are those known on that day."""
    causes = likely_causes({_day_of(a.day) for a in found})
    return [{"series": a.series, "label": SERIES[a.series].label, "kind": SERIES[a.series].kind, "day": a.day,
             "direction": a.direction, "value": a.value, "expected": a.expected, "units": round(a.units, 2),
             "value_text": _formatted(a.series, a.value), "expected_text": _formatted(a.series, a.expected),
             "change": a.change if math.isfinite(a.change) else None,
             "likely_causes": causes.get(_day_of(a.day), [])} for a in found]


def _day_of(moment: dt.date) -> dt.date:
    return moment.date() if isinstance(moment, dt.datetime) else moment


def _formatted(series: str, value: float) -> str:
    return METRICS[series].format(value) if series in METRICS else f"{round(value):,}"
