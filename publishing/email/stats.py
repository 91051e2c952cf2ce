"""The statistics of A/B tests: the normal distribution through math.erf, a two-proportion z-test and
Wilson score intervals (honest at small counts and at rates near 0 or 1, unlike the Wald interval)."""

import math
from dataclasses import dataclass


def normal_cdf(x: float) -> float:
    return 0.5 * (1.0 + math.erf(x / math.sqrt(2.0)))


def normal_quantile(p: float) -> float:
    """Inverse of normal_cdf by bisection: exact enough for confidence levels, no table needed."""
    if not 0.0 < p < 1.0:
        raise ValueError("p must be between 0 and 1")
    low, high = -40.0, 40.0
    for _ in range(200):
        middle = (low + high) / 2
        if normal_cdf(middle) < p:
            low = middle
        else:
            high = middle
    return (low + high) / 2


@dataclass(frozen=True)
class Proportion:
    successes: int
    trials: int

    @property
    def rate(self) -> float:
        return self.successes / self.trials if self.trials else 0.0

    def wilson_interval(self, confidence: float) -> tuple[float, float]:
        if not self.trials:
            return (0.0, 0.0)
        z = normal_quantile(1 - (1 - confidence) / 2)
        n, p = self.trials, self.rate
        centre = (p + z * z / (2 * n)) / (1 + z * z / n)
        half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
        return (max(0.0, centre - half), min(1.0, centre + half))


def two_proportion_z_test(a: Proportion, b: Proportion) -> tuple[float, float]:
    """(z, two-sided p-value) for H0: both rates are equal, with the pooled standard error."""
    if not a.trials or not b.trials:
        return (0.0, 1.0)
    pooled = (a.successes + b.successes) / (a.trials + b.trials)
    standard_error = math.sqrt(pooled * (1 - pooled) * (1 / a.trials + 1 / b.trials))
    if standard_error == 0:
        return (0.0, 1.0)
    z = (a.rate - b.rate) / standard_error
    return (z, 2 * (1 - normal_cdf(abs(z))))
