"""Synthetic daily series with a weekly rhythm, noise and injected drops and spikes, and the scoring of
a detector on them (recall of the injected days, false alarms per series per month). Used by the
anomaly tests and by `bench anomalies`."""

from __future__ import annotations

import datetime as dt
import math
import random
from dataclasses import dataclass, field

from analytics.reports.anomalies import Settings, detect

# Marketing figures by weekday, Monday first: busy early week, quiet weekend.
WEEKDAY_SHAPE = (1.15, 1.25, 1.1, 1.0, 0.9, 0.45, 0.35)


@dataclass
class SyntheticSeries:
    values: dict[dt.date, float]
    injected: dict[dt.date, float]  # day: the factor applied (0.3 = a 70% drop, 2.5 = a spike)
    judged_from: dt.date  # days before this are history only


def synthetic_series(rng: random.Random, *, start: dt.date, days: int, level: float, noise: float,
                     anomalies_per_month: float = 2.0, history_days: int = 56) -> SyntheticSeries:
    """Counts around `level` × the weekday shape × a slow drift, with log-normal noise of `noise` on top of
    Poisson counting noise; on random judged days, a drop to 10–55% or a spike to 1.8–4×."""
    values, injected = {}, {}
    judged_from = start + dt.timedelta(days=history_days)
    drift_phase = rng.uniform(0, 2 * math.pi)
    for n in range(days):
        day = start + dt.timedelta(days=n)
        drift = 1 + 0.15 * math.sin(drift_phase + 2 * math.pi * n / 120)
        mean = level * WEEKDAY_SHAPE[day.weekday()] * drift * math.exp(rng.gauss(0, noise))
        value = _poisson(rng, mean)
        if day >= judged_from and rng.random() < anomalies_per_month / 30:
            factor = rng.uniform(0.1, 0.55) if rng.random() < 0.5 else rng.uniform(1.8, 4.0)
            injected[day] = factor
            value = _poisson(rng, mean * factor)
        values[day] = float(value)
    return SyntheticSeries(values=values, injected=injected, judged_from=judged_from)


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
        flagged = {a.day for a in detect(made.values, kind="count", floor=20, days=judged, config=config)}
        score.series += 1
        score.judged_days += len(judged)
        score.injected += len(made.injected)
        score.found += len(flagged & set(made.injected))
        score.false_alarms += len(flagged - set(made.injected))
        score.missed += [(day, made.injected[day]) for day in set(made.injected) - flagged]
    return score
