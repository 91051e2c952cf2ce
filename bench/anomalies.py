"""How well the unusual-day detector finds injected drops and spikes, and how often it cries wolf, on
synthetic daily series with a weekly rhythm (analytics/tests/synthetic.py), against a plain baseline
judged on the same series in the same run: the last 28 days' mean ± 3 standard deviations, which knows
no weekday. Also the time both take per series-year. Goal (issue #22): ≥ 90% of the injected anomalies
found with ≤ 1 false alarm per series per month.

Then the unusual-hour detector on synthetic hourly series (seeds 7 and 11, as the tests), against the
daily rule applied to hours (each hour's own 8-week MAD, no level shift) on the same series."""

import argparse
import datetime as dt
import os
import random
import statistics
import time


def _baseline(values: dict, days: list) -> set:
    flagged = set()
    for day in days:
        window = [values.get(day - dt.timedelta(days=n), 0.0) for n in range(1, 29)]
        mean, spread = statistics.fmean(window), statistics.pstdev(window)
        if spread and abs(values[day] - mean) >= 3 * spread:
            flagged.add(day)
    return flagged


def main(argv):
    parser = argparse.ArgumentParser(prog="bench anomalies")
    parser.add_argument("--series", type=int, default=200, help="series per noise level (each a year)")
    parser.add_argument("--noise", type=float, nargs="+", default=[0.05, 0.1, 0.15],
                        help="day-to-day noise (log-normal sigma) over the Poisson counts")
    parser.add_argument("--hourly-series", type=int, default=9, help="hourly series-years per seed (0: none)")
    args = parser.parse_args(argv)

    from bench.conditions import setup_django

    setup_django("aicmo_site.settings.test")
    from analytics.reports.anomalies import detect, detector_settings
    from analytics.tests.synthetic import synthetic_series

    config = detector_settings()
    print(f"conditions: cores={os.cpu_count()}, load average {os.getloadavg()[0]:.1f} at start, detector {config}")
    print(f"{'noise':>5} {'detector':>9} {'recall':>7} {'false alarms/series/month':>26} {'ms per series-year':>19}")
    for noise in args.noise:
        rng = random.Random(11)
        tallies = {name: {"found": 0, "false": 0, "seconds": 0.0} for name in ("ours", "baseline")}
        injected = judged_days = 0
        for n in range(args.series):
            made = synthetic_series(rng, start=dt.date(2025, 1, 6), days=365,
                                    level=(300, 1500, 8000, 30000)[n % 4], noise=noise)
            judged = [day for day in made.values if day >= made.judged_from]
            injected += len(made.injected)
            judged_days += len(judged)
            # Interleaved: each series is judged by the baseline and by ours, one after the other.
            for name in ("baseline", "ours") if n % 2 else ("ours", "baseline"):
                began = time.perf_counter()
                if name == "ours":
                    flagged = {a.day for a in detect(made.values, kind="count", floor=20, at=judged, config=config)}
                else:
                    flagged = _baseline(made.values, judged)
                tallies[name]["seconds"] += time.perf_counter() - began
                tallies[name]["found"] += len(flagged & set(made.injected))
                tallies[name]["false"] += len(flagged - set(made.injected))
        for name, tally in tallies.items():
            print(f"{noise:>5} {name:>9} {tally['found'] / injected:>7.1%} "
                  f"{tally['false'] / (judged_days / 30):>26.2f} "
                  f"{1000 * tally['seconds'] / args.series:>19.1f}")
    print(f"load average {os.getloadavg()[0]:.1f} at the end; {args.series} series per noise level, "
          f"{injected} anomalies injected at the last level")
    if args.hourly_series:
        _hourly(args.hourly_series, config)


def _hourly(series: int, config) -> None:
    from analytics.reports.anomalies import HOUR, Period
    from analytics.tests.synthetic import score_hourly_detector

    daily_rule = Period("hour", HOUR.step, level_steps=0)
    print(f"by hour, noise 0.1, {series} series-years per seed; load average {os.getloadavg()[0]:.1f}")
    print(f"{'seed':>5} {'detector':>10} {'recall':>7} {'false alarms/series/month':>26} {'s per series-year':>18}")
    for seed in (7, 11):
        # Interleaved: the order of the two alternates by seed.
        for name, period in (("ours", HOUR), ("daily rule", daily_rule))[:: 1 if seed == 7 else -1]:
            began = time.perf_counter()
            score = score_hourly_detector(seed=seed, series=series, noise=0.1, config=config, period=period)
            took = (time.perf_counter() - began) / series
            print(f"{seed:>5} {name:>10} {score.recall:>7.1%} {score.false_alarms_per_series_month:>26.2f} "
                  f"{took:>18.2f}")
    print(f"load average {os.getloadavg()[0]:.1f} at the end")
