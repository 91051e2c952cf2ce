"""Synthetic daily and hourly series with a weekly (and daily) rhythm, noise and injected drops and spikes,
and the scoring of a detector on them (recall of the injected days or hours, false alarms per series per
month). Used by the anomaly tests and by `bench anomalies`."""

from __future__ import annotations

import datetime as dt
import math
import random
from dataclasses import dataclass, field

from analytics.reports.anomalies import HOUR, Period, Settings, detect

# Marketing figures by weekday, Monday first: busy early week, quiet weekend.
WEEKDAY_SHAPE = (1.15, 1.25, 1.1, 1.0, 0.9, 0.45, 0.35)
# And by hour of the day, midnight first: a night at a fifth of the working hours.
HOUR_SHAPE = (0.25, 0.2, 0.2, 0.2, 0.25, 0.35, 0.6, 0.9, 1.2, 1.4, 1.5, 1.45, 1.3, 1.35, 1.4, 1.35, 1.25, 1.1, 1.0,
              0.95, 0.85, 0.7, 0.5, 0.35)


@dataclass
class SyntheticSeries:
    values: dict[dt.date, float]
    injected: dict[dt.date, float]  # day: the factor applied (0.3 = a 70% drop, 2.5 = a spike)
    judged_from: dt.date  # days (or hours) before this are history only


def synthetic_series(rng: random.Random, *, start: dt.date, days: int, level: float, noise: float,
                     anomalies_per_month: float = 2.0, history_days: int = 56) -> SyntheticSeries:
    """Counts around `level` × the weekday shape × a slow drift, with log-normal noise of `noise` on top of
    Poisson counting noise; on random judged days, a drop to 10–55% or a spike to 1.8–4×."""
    return _made(rng, start=dt.datetime.combine(start, dt.time.min), steps=days, step=dt.timedelta(days=1),
                 level=level, noise=noise, anomalies_per_month=anomalies_per_month, history_days=history_days,
                 shape=lambda moment: WEEKDAY_SHAPE[moment.weekday()], as_day=True)


def synthetic_hourly_series(rng: random.Random, *, start: dt.date, days: int, level: float, noise: float,
                            anomalies_per_month: float = 2.0, history_days: int = 63) -> SyntheticSeries:
    """As synthetic_series, hour by hour: `level` × the weekday shape × the hour-of-day shape × the drift;
    the noise is drawn for each hour, and so are the anomalies (two a month: two hours in 720)."""
    return _made(rng, start=dt.datetime.combine(start, dt.time.min), steps=days * 24, step=dt.timedelta(hours=1),
                 level=level, noise=noise, anomalies_per_month=anomalies_per_month, history_days=history_days,
                 shape=lambda moment: WEEKDAY_SHAPE[moment.weekday()] * HOUR_SHAPE[moment.hour], as_day=False)


def _made(rng, *, start: dt.datetime, steps: int, step: dt.timedelta, level, noise, anomalies_per_month,
          history_days, shape, as_day: bool) -> SyntheticSeries:
    values, injected = {}, {}
    judged_from = start + dt.timedelta(days=history_days)
    drift_phase = rng.uniform(0, 2 * math.pi)
    per_step = anomalies_per_month * step / dt.timedelta(days=30)
    for n in range(steps):
        moment = start + n * step
        drift = 1 + 0.15 * math.sin(drift_phase + 2 * math.pi * (n * step / dt.timedelta(days=120)))
        mean = level * shape(moment) * drift * math.exp(rng.gauss(0, noise))
        value = _poisson(rng, mean)
        day = moment.date() if as_day else moment
        if moment >= judged_from and rng.random() < per_step:
            factor = rng.uniform(0.1, 0.55) if rng.random() < 0.5 else rng.uniform(1.8, 4.0)
            injected[day] = factor
            value = _poisson(rng, mean * factor)
        values[day] = float(value)
    return SyntheticSeries(values=values, injected=injected,
                           judged_from=judged_from.date() if as_day else judged_from)


def _poisson(rng: random.Random, mean: float) -> int:
    if mean > 50:
        return max(0, round(rng.gauss(mean, math.sqrt(mean))))
    threshold, k, product = math.exp(-mean), 0, rng.random()
    while product > threshold:
        k += 1
        product *= rng.random()
    return k


@dataclass
class Score:
    injected: int = 0
    found: int = 0
    false_alarms: int = 0
    judged_days: int = 0
    series: int = 0
    missed: list = field(default_factory=list)

    @property
    def recall(self) -> float:
        return self.found / self.injected if self.injected else 1.0

    @property
    def false_alarms_per_series_month(self) -> float:
        months = self.judged_days / 30
        return self.false_alarms / months if months else 0.0


def score_detector(*, seed: int, series: int, days: int = 365, levels=(300, 1500, 8000, 30000),
                   noise: float = 0.1, config: Settings | None = None) -> Score:
    rng = random.Random(seed)
    score = Score()
    start = dt.date(2025, 1, 6)
    for n in range(series):
        made = synthetic_series(rng, start=start, days=days, level=levels[n % len(levels)], noise=noise)
        judged = [day for day in made.values if day >= made.judged_from]
        flagged = {a.day for a in detect(made.values, kind="count", floor=20, at=judged, config=config)}
        score.series += 1
        score.judged_days += len(judged)
        score.injected += len(made.injected)
        score.found += len(flagged & set(made.injected))
        score.false_alarms += len(flagged - set(made.injected))
        score.missed += [(day, made.injected[day]) for day in set(made.injected) - flagged]
    return score


def score_hourly_detector(*, seed: int, series: int, days: int = 365, levels=(200, 1000, 5000),
                          noise: float = 0.1, config: Settings | None = None, period: Period = HOUR) -> Score:
    """`levels` are per hour at the shapes' 1.0: 200 is about 4,300 a day, with nights of 10 to 30 an
    hour, below the floor of 20 on weekends (thin data: those hours cannot drop). `period` may read the
    hours another way (the bench's baseline: the daily rule, each hour's own 8-week MAD)."""
    rng = random.Random(seed)
    score = Score()
    for n in range(series):
        made = synthetic_hourly_series(rng, start=dt.date(2025, 1, 6), days=days, level=levels[n % len(levels)],
                                       noise=noise)
        judged = [hour for hour in made.values if hour >= made.judged_from]
        flagged = {a.day for a in detect(made.values, period=period, kind="count", floor=20, at=judged,
                                              config=config)}
        score.series += 1
        score.judged_days += len(judged) / 24
        score.injected += len(made.injected)
        score.found += len(flagged & set(made.injected))
        score.false_alarms += len(flagged - set(made.injected))
        score.missed += [(hour, made.injected[hour]) for hour in set(made.injected) - flagged]
    return score
