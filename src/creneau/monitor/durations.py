# SPDX-License-Identifier: AGPL-3.0-or-later
"""How likely a check interval is to catch a target's openings, learned from what the checks saw.

An opening visible for `d` seconds is caught by checks every `h` seconds (random phase) with probability
min(1, d/h), and then seen by ⌊d/h⌋ or ⌊d/h⌋+1 checks. So the number of sightings of the openings we did
catch, under the interval in force, tells how long openings last, even the ones we missed. The model keeps a
grid of log-normal duration laws (median 2 s … a week, three spreads) and weighs them by the likelihood of the
observed (interval, sightings) counts; the rate of openings is corrected for the ones each law says we
missed. Everything is a small constant table built once (`DurationModel()`), then cheap arithmetic.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

# Check intervals the policy chooses from, shortest first.
LEVELS_S: tuple[float, ...] = (15, 20, 30, 45, 60, 90, 120, 180, 240, 300, 450, 600, 900, 1200, 1800)
# Sighting counts are grouped: 1, 2, 3, 4–6, 7–15, 16+.
_BUCKET_EDGES = (1, 2, 3, 4, 7, 16)


def bucket_of(sightings: int) -> int:
    """Index of the sightings bucket (`sightings` ≥ 1)."""
    for i in range(len(_BUCKET_EDGES) - 1, -1, -1):
        if sightings >= _BUCKET_EDGES[i]:
            return i
    raise ValueError("an opening that was caught was seen at least once")


_LEVEL_INDEX = {h: i for i, h in enumerate(LEVELS_S)}


def level_of(interval_s: float) -> int:
    """Index of the level nearest to `interval_s` (on a log scale)."""
    exact = _LEVEL_INDEX.get(interval_s)
    if exact is not None:
        return exact
    return min(range(len(LEVELS_S)), key=lambda i: abs(math.log(LEVELS_S[i] / max(interval_s, 1.0))))


@dataclass(frozen=True, slots=True)
class Law:
    median_s: float
    sigma: float
    p_catch: tuple[float, ...]  # per level
    log_q: tuple[tuple[float, ...], ...]  # per level, per sightings bucket: log P(bucket | caught)


def _law(median_s: float, sigma: float, grid: list[float]) -> Law:
    raw = [math.exp(-((math.log(d / median_s)) ** 2) / (2 * sigma * sigma)) for d in grid]
    total = sum(raw)
    pmf = [w / total for w in raw]
    p_catch, log_q = [], []
    for h in LEVELS_S:
        caught = 0.0
        buckets = [0.0] * len(_BUCKET_EDGES)
        for d, w in zip(grid, pmf, strict=True):
            x = d / h
            low = math.floor(x)
            frac = x - low
            caught += w * min(1.0, x)
            if low >= 1:
                buckets[bucket_of(low)] += w * (1 - frac)
            buckets[bucket_of(low + 1)] += w * frac
        p_catch.append(caught)
        log_q.append(tuple(math.log(max(b / caught, 1e-12)) for b in buckets))
    return Law(median_s, sigma, tuple(p_catch), tuple(log_q))


class DurationModel:
    """The grid of duration laws and the arithmetic on a target's sighting counts (immutable once built)."""

    def __init__(self, medians: int = 28, sigmas: tuple[float, ...] = (0.6, 1.2, 2.0)) -> None:
        grid = [0.5 * 1.3**k for k in range(64)]  # 0.5 s … ~6 weeks
        self.laws = tuple(_law(2.0 * 1.6**k, s, grid) for k in range(medians) for s in sigmas)

    def weights(self, cells: Mapping[tuple[int, int], float]) -> list[float]:
        """Posterior weight of each law given decayed counts of caught openings per (level, sightings bucket)."""
        if not cells:
            return [1.0 / len(self.laws)] * len(self.laws)
        logs = [sum(n * law.log_q[lv][b] for (lv, b), n in cells.items()) for law in self.laws]
        top = max(logs)
        raw = [math.exp(v - top) for v in logs]
        total = sum(raw)
        return [w / total for w in raw]

    def catch_curve(self, cells: Mapping[tuple[int, int], float], exposure: Mapping[int, float]) -> Curve:
        """Expected openings caught per second at each level, and what it rests on."""
        caught = sum(cells.values())
        weights = self.weights(cells)
        rates = [0.0] * len(LEVELS_S)
        p_mean = [0.0] * len(LEVELS_S)
        lam_mean = 0.0
        log_median = 0.0
        for law, w in zip(self.laws, weights, strict=True):
            seen_for = sum(secs * law.p_catch[lv] for lv, secs in exposure.items())
            lam = caught / seen_for if seen_for > 0 else 0.0
            lam_mean += w * lam
            log_median += w * math.log(law.median_s)
            for i, p in enumerate(law.p_catch):
                rates[i] += w * lam * p
                p_mean[i] += w * p
        return Curve(tuple(rates), tuple(p_mean), lam_mean, math.exp(log_median), caught)


@dataclass(frozen=True, slots=True)
class Curve:
    """`rates[i]`: openings caught per second at level i; `p_catch[i]`: share of openings caught there;
    `rate`: openings per second (all, caught or not); `median_s`: typical time an opening stays visible;
    `evidence`: how many (decayed) caught openings the estimate rests on."""

    rates: tuple[float, ...]
    p_catch: tuple[float, ...]
    rate: float
    median_s: float
    evidence: float
