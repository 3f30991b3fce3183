# SPDX-License-Identifier: AGPL-3.0-or-later
"""Random laws and Paris wall-clock helpers shared by the scenario loader and the France generator.

Everything takes an explicit `random.Random`, so a world built from the same seed is the same world.
Laws are given the way slot-dynamics.md §8 states them (median and 90th percentile), not as mu/sigma.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from random import Random
from statistics import NormalDist
from typing import TypeVar

from creneau.types import PARIS

T = TypeVar("T")
Z90 = 1.2815515655446004  # standard normal 90th percentile
DAY = timedelta(days=1)
WEEK = timedelta(days=7)
# Slot-time windows of a Vertigo agenda's default template, minutes after local midnight (§2).
OFFICE_WINDOWS: tuple[tuple[int, int], ...] = ((510, 720), (840, 990))


@dataclass(frozen=True, slots=True)
class LogNormal:
    """A log-normal law given by its median and 90th percentile; `p90 == p50` is a fixed value.

    Raises ValueError when `p50 <= 0` or `p90 < p50`.
    """

    p50: float
    p90: float
    _mu: float = field(init=False, repr=False, compare=False)
    _sigma: float = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.p50 > 0 or self.p90 < self.p50:
            raise ValueError(f"need 0 < p50 <= p90, got p50={self.p50} p90={self.p90}")
        object.__setattr__(self, "_mu", math.log(self.p50))
        object.__setattr__(self, "_sigma", math.log(self.p90 / self.p50) / Z90)

    def sample(self, rng: Random) -> float:
        if self._sigma == 0.0:
            return self.p50
        return math.exp(rng.gauss(self._mu, self._sigma))  # gauss: twice as fast as lognormvariate

    def quantile(self, q: float) -> float:
        if self._sigma == 0.0:
            return self.p50
        return math.exp(self._mu + self._sigma * NormalDist().inv_cdf(q))

    @classmethod
    def fixed(cls, value: float) -> LogNormal:
        return cls(value, value)


@dataclass(frozen=True, slots=True)
class Lifetime:
    """How long a visible slot stays before somebody else takes it, in seconds.

    A `bot_share` of slots is taken by bots (law `bot`, 24/7); the rest by humans (law `human`), whose
    lifetime is multiplied by the caller's night factor (§8: humans sleep, bots do not).
    """

    human: LogNormal
    bot: LogNormal | None = None
    bot_share: float = 0.0

    def sample(self, rng: Random, night_factor: float = 1.0) -> float:
        if self.bot is not None and rng.random() < self.bot_share:
            return self.bot.sample(rng)
        return self.human.sample(rng) * night_factor

    def draw(self, rng: Random, n: int, night_factor: float = 1.0) -> list[float]:
        """`n` lifetimes at once (the generator's hot path; same law as `sample`)."""
        if self.bot is None:
            human = self.human
            if human.p90 == human.p50:
                return [human.p50 * night_factor] * n
            mu, sigma, gauss, exp = human._mu, human._sigma, rng.gauss, math.exp
            return [exp(gauss(mu, sigma)) * night_factor for _ in range(n)]
        return [self.sample(rng, night_factor) for _ in range(n)]


def weighted(rng: Random, pairs: Sequence[tuple[float, T]]) -> T:
    """Pick the second item of one (weight, item) pair, with probability proportional to the weight."""
    total = sum(w for w, _ in pairs)
    x = rng.random() * total
    for w, item in pairs:
        x -= w
        if x < 0:
            return item
    return pairs[-1][1]


def poisson(rng: Random, lam: float) -> int:
    """A Poisson draw (Knuth); fine for the small rates of batches per week."""
    if lam <= 0:
        return 0
    limit, k, p = math.exp(-lam), 0, rng.random()
    while p > limit:
        k += 1
        p *= rng.random()
    return k


# --- Paris wall clock ------------------------------------------------------------------------------
def local(day: date, minutes: float) -> datetime:
    """The UTC instant of Paris wall time `day` + `minutes` after midnight (minutes may exceed 1440)."""
    naive = datetime(day.year, day.month, day.day) + timedelta(minutes=minutes)  # noqa: DTZ001 - wall time
    return naive.replace(tzinfo=PARIS).astimezone(UTC)


def local_date(t: datetime) -> date:
    return t.astimezone(PARIS).date()


def local_minutes(t: datetime) -> float:
    """Minutes after Paris midnight of `t`."""
    lt = t.astimezone(PARIS)
    return lt.hour * 60 + lt.minute + lt.second / 60


def monday_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


def parse_clock(text: str) -> int:
    """`"08:30"` → 510 minutes. Raises ValueError on anything else."""
    hh, sep, mm = text.partition(":")
    if not sep or not (hh.isdigit() and mm.isdigit()) or int(mm) > 59 or int(hh) > 24:
        raise ValueError(f"not a HH:MM time: {text!r}")
    return int(hh) * 60 + int(mm)


def slot_grid(
    rng: Random,
    days: Sequence[date],
    size: int,
    *,
    windows: Sequence[tuple[int, int]] = OFFICE_WINDOWS,
    spacing_min: int = 15,
    max_counters: int = 9,
) -> list[datetime]:
    """`size` distinct appointment starts spread over `days`, on a grid `spacing_min` apart in `windows`.

    Several counters make several slots at the same time; at most `max_counters`, so the batch is capped
    at counters × grid cells (§8 "cap 9 counters × day length / slot length"). Sorted, UTC.
    """
    minutes = [m for lo, hi in windows for m in range(lo, hi - spacing_min + 1, spacing_min)]
    cells = len(days) * len(minutes)
    if cells == 0 or size <= 0:
        return []
    counters = min(max_counters, -(-size // cells))
    size = min(size, cells * counters)
    # Paris offset at noon is the offset all day long inside office hours (DST switches at night).
    bases = [
        datetime(d.year, d.month, d.day, tzinfo=UTC)
        - (datetime(d.year, d.month, d.day, 12, tzinfo=PARIS).utcoffset() or timedelta())
        for d in days
    ]
    n_min = len(minutes)
    offsets = [timedelta(minutes=m) for m in minutes]
    picks = sorted(p % cells for p in rng.sample(range(cells * counters), size))
    return [bases[p // n_min] + offsets[p % n_min] for p in picks]


def season_factor(day: date, factor: float) -> float:
    """`factor` in August and from 24 Dec to 1 Jan (§8 holidays), else 1."""
    if day.month == 8 or (day.month == 12 and day.day >= 24) or (day.month == 1 and day.day == 1):
        return factor
    return 1.0
