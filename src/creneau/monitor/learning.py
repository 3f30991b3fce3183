# SPDX-License-Identifier: AGPL-3.0-or-later
"""What the policy learns about one target from its own checks (never from anything else).

- Sightings per caught opening, by the routine interval in force, and the time spent at each interval:
  the input of `durations.DurationModel` (how long openings last, how many there are).
- When openings start: per 4-hour block of the week (where to spend routine checks) and per 5-minute bin of
  the week and of the day (release windows: the same weekday and time, or the same time, again and again).
- At which whole minute of the day releases fall, from openings whose start is known within a few minutes
  (the checks of a window): scheduled releases fall on whole minutes, so once a window's openings keep
  coming at the same minute the window shrinks to that minute and costs one check instead of one a minute.

All counts decay with a half-life (3 weeks by default; 8 weeks for the release-window bins, which need
several weeks of evidence), so a target that changes its habits is re-learned.
Decay is lazy: values are stored scaled by 2^(t/half-life) and divided back when read, so recording a check
is O(1). Times of day are Europe/Paris wall-clock times.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from creneau.monitor.durations import bucket_of
from creneau.types import PARIS

DAY_S = 86400
WEEK_S = 7 * DAY_S
BIN_S = 300
BLOCK_S = 4 * 3600
N_BLOCKS = WEEK_S // BLOCK_S
WINDOW_HALF_LIFE_S = 56 * 86400.0
_MAX_SPREAD_S = 1900.0  # an opening start known less precisely than this does not feed the window histograms
_MINUTE_SPREAD_S = 180.0  # … nor the release-minute histogram, above this (lag included)
DAY_MINUTES = DAY_S // 60
MINUTE_EVIDENCE = 2.0  # openings pinned to a window's minutes before it shrinks to them
MINUTE_SHARE = 0.8  # of those openings the kept minutes must agree with
MAX_RELEASE_MINUTES = 2


def week_second(t: datetime) -> float:
    """Seconds since Monday 00:00, Paris wall clock."""
    # Paris changes its UTC offset only on whole hours, so the hour's start pins the offset (memoised).
    stamp = t.timestamp()
    hour = int(stamp // 3600)
    return _hour_week_second(hour) + (stamp - hour * 3600)


@lru_cache(maxsize=8192)
def _hour_week_second(hour: int) -> float:
    local = datetime.fromtimestamp(hour * 3600, tz=PARIS)
    return float(local.weekday() * 86400 + local.hour * 3600 + local.minute * 60)


def at_week_second(now: datetime, second: float) -> datetime:
    """The first instant at or after the start of `now`'s Paris week whose week second is `second`."""
    local = now.astimezone(PARIS)
    monday = datetime(local.year, local.month, local.day, tzinfo=PARIS) - timedelta(days=local.weekday())
    return (monday + timedelta(seconds=second)).astimezone(now.tzinfo)


def block_of(t: datetime) -> int:
    return int(week_second(t) // BLOCK_S)


def _spread(hist: dict[int, float], lo: float, hi: float, period: float, weight: float) -> None:
    """Add `weight` to the bins of [lo, hi) (seconds into a period), in proportion to their overlap."""
    n = int(period // BIN_S)
    span = hi - lo
    b = int(lo // BIN_S)
    while b * BIN_S < hi:
        overlap = min(hi, (b + 1) * BIN_S) - max(lo, b * BIN_S)
        hist[b % n] = hist.get(b % n, 0.0) + weight * overlap / span
        b += 1


def _qualifying(hist: dict[int, float], n: int, f: float, threshold: float) -> list[int]:
    """Bins whose 3-bin neighbourhood weight (× `f`) reaches `threshold` and 4× its share of the total."""
    bar = max(threshold, 4 * 3 * sum(hist.values()) * f / n)
    return [
        b
        for b, v in hist.items()
        if v * f > 0.05 * bar and (hist.get((b - 1) % n, 0.0) + v + hist.get((b + 1) % n, 0.0)) * f >= bar
    ]


def _faded(hist: dict[int, float], factor: float) -> dict[int, float]:
    """A histogram's values times `factor`, without the bins that have faded to nothing."""
    return {k: v * factor for k, v in hist.items() if v * factor > 1e-9}


def _saved(hist: dict[int, float]) -> dict[str, float]:
    return {str(k): v for k, v in hist.items()}


def _loaded(data: dict[str, Any], name: str) -> dict[int, float]:
    return {int(k): float(v) for k, v in data.get(name, {}).items()}


@dataclass(slots=True)
class TargetStats:
    """Decaying counts about one target (see module docstring). Mutated in place by the policy that owns it."""

    half_life_s: float = 21 * 86400.0
    ref: datetime | None = None
    cells: dict[tuple[int, int], float] = field(default_factory=dict)
    exposure: dict[int, float] = field(default_factory=dict)
    blocks: list[float] = field(default_factory=lambda: [0.0] * N_BLOCKS)
    block_exp: list[float] = field(default_factory=lambda: [0.0] * N_BLOCKS)
    week: dict[int, float] = field(default_factory=dict)
    day: dict[int, float] = field(default_factory=dict)
    minutes: dict[int, float] = field(default_factory=dict)
    released: dict[int, float] = field(default_factory=dict)
    observed_s: float = 0.0
    run_n: int = 0
    run_level: int = 0
    run_routine: bool = False

    # --- decay ---------------------------------------------------------------------------------
    def _scale(self, t: datetime) -> float:
        if self.ref is None:
            self.ref = t
        exponent = (t - self.ref).total_seconds() / self.half_life_s
        if exponent > 40:
            self._rebase(t)
            exponent = 0.0
        return float(2.0**exponent)

    def _week_scale(self, t: datetime) -> float:
        self._scale(t)  # sets or moves `ref`
        assert self.ref is not None
        return float(2.0 ** ((t - self.ref).total_seconds() / WINDOW_HALF_LIFE_S))

    def _rebase(self, t: datetime) -> None:
        assert self.ref is not None
        elapsed = (t - self.ref).total_seconds()
        factor, week_factor = 2.0 ** (-elapsed / self.half_life_s), 2.0 ** (-elapsed / WINDOW_HALF_LIFE_S)
        self.week, self.day = _faded(self.week, week_factor), _faded(self.day, week_factor)
        self.minutes, self.released = _faded(self.minutes, week_factor), _faded(self.released, week_factor)
        self.cells = {k: v * factor for k, v in self.cells.items()}
        self.exposure = {k: v * factor for k, v in self.exposure.items()}
        self.blocks = [v * factor for v in self.blocks]
        self.block_exp = [v * factor for v in self.block_exp]
        self.ref = t

    def factor(self, now: datetime) -> float:
        """Multiply a stored value by this to read it as of `now`."""
        if self.ref is None:
            return 1.0
        return float(2.0 ** -((now - self.ref).total_seconds() / self.half_life_s))

    # --- recording -----------------------------------------------------------------------------
    def checked(
        self,
        now: datetime,
        *,
        level: int,
        elapsed_s: float,
        positive: bool | None,
        routine: bool,
        catch_p: float = 1.0,
    ) -> None:
        """One check ended. `elapsed_s`: time it covers (since the previous check, capped by the caller);
        `positive`: it saw slots (True), positively none (False), or was inconclusive (None); `catch_p`: the
        share of openings the current interval is believed to catch (weighs the block's exposure, so a block
        checked rarely is not mistaken for a block where nothing happens)."""
        scale = self._scale(now)
        self.observed_s += elapsed_s
        self.exposure[level] = self.exposure.get(level, 0.0) + elapsed_s * scale
        if routine:
            self.block_exp[block_of(now)] += elapsed_s * catch_p * scale
        if positive is None:
            return
        if positive and self.run_n == 0:
            self.run_n, self.run_level, self.run_routine = 1, level, routine
            if routine:
                self.blocks[block_of(now)] += scale
        elif positive:
            self.run_n += 1
        elif self.run_n:
            if self.run_routine:
                key = (self.run_level, bucket_of(self.run_n))
                self.cells[key] = self.cells.get(key, 0.0) + scale
            self.run_n = 0

    def opening_started(self, since: datetime | None, at: datetime, lag_s: float = 0.0) -> None:
        """New slots were first seen at `at`; they appeared after `since` (the previous conclusive check), and
        were released up to `lag_s` before they showed (a site's cache)."""
        if since is None or (at - since).total_seconds() > _MAX_SPREAD_S or at <= since:
            return
        scale = self._week_scale(at)
        lo, hi = week_second(since), week_second(at)
        if hi < lo:  # the interval wraps around Monday 00:00
            hi += WEEK_S
        _spread(self.week, lo, hi, WEEK_S, scale)
        _spread(self.day, lo % DAY_S, lo % DAY_S + hi - lo, DAY_S, scale)
        if hi - lo + lag_s <= _MINUTE_SPREAD_S:
            # The whole minutes in (since − lag, at] are where a scheduled release could have fallen: each
            # counts the opening (the minute the most openings agree on is the release minute); `released`
            # counts it once, at its last possible minute.
            first, last = math.floor((lo - lag_s) / 60) + 1, math.floor(hi / 60)
            for m in range(first, last + 1):
                self.minutes[m % DAY_MINUTES] = self.minutes.get(m % DAY_MINUTES, 0.0) + scale
            self.released[last % DAY_MINUTES] = self.released.get(last % DAY_MINUTES, 0.0) + scale

    # --- reading -------------------------------------------------------------------------------
    def decayed_cells(self, now: datetime) -> dict[tuple[int, int], float]:
        f = self.factor(now)
        return {k: v * f for k, v in self.cells.items()}

    def decayed_exposure(self, now: datetime) -> dict[int, float]:
        f = self.factor(now)
        return {k: v * f for k, v in self.exposure.items()}

    def block_rates(self, now: datetime) -> tuple[list[float], list[float]]:
        """Per block: openings caught by routine checks, and the exposure they had (seconds × catch share)."""
        f = self.factor(now)
        return [v * f for v in self.blocks], [v * f for v in self.block_exp]

    def block_shape(self, now: datetime, prior: list[float], strength: float = 4.0) -> list[float]:
        """Relative opening rate per block (about 1 on average): openings caught there over those expected
        from the target's overall rate and the block's exposure, shrunk towards `prior` by `strength`
        openings (a block never or rarely checked takes the prior)."""
        counts, exposure = self.block_rates(now)
        seen, exposed = sum(counts), sum(exposure)
        rate = seen / exposed if exposed > 0 else 0.0
        return [(c + strength * p) / (rate * e + strength) for c, e, p in zip(counts, exposure, prior, strict=True)]

    def windows(self, now: datetime) -> list[tuple[float, float]]:
        """Release windows: week-second ranges where openings keep starting at the same time, weekly (two
        weeks at the same weekday and time) or daily (four days, on three weekdays or more, at the same time). A 5-minute bin with some
        weight qualifies when it and its two neighbours add up to the threshold and to several times what
        the target's openings would put there by chance (a target whose openings start at all hours does
        not see windows everywhere). Adjacent qualifying bins merge.
        """
        f = 1.0 if self.ref is None else 2.0 ** -((now - self.ref).total_seconds() / WINDOW_HALF_LIFE_S)
        per_day = DAY_S // BIN_S
        bins = set(_qualifying(self.week, WEEK_S // BIN_S, f, 1.6))
        for b in _qualifying(self.day, per_day, f, 4.0):
            # A daily habit shows on several weekdays; a weekly one also fills the daily bins but on one day.
            days = [
                d for d in range(7) if any(self.week.get((b + d * per_day + k) % (7 * per_day)) for k in (-1, 0, 1))
            ]
            if len(days) >= 3:
                bins.update(b + d * per_day for d in range(7))
        out: list[tuple[float, float]] = []
        for b in sorted(bins):
            if out and out[-1][1] >= b * BIN_S:
                out[-1] = (out[-1][0], (b + 1) * BIN_S)
            else:
                out.append((b * BIN_S, (b + 1) * BIN_S))
        if len(out) > 1 and out[0][0] == 0 and out[-1][1] == WEEK_S:
            # Sunday 23:55 to Monday 00:05 is one window (its end lies past the week's, which timing allows).
            out = [*out[1:-1], (out[-1][0], WEEK_S + out[0][1])]
        return sorted(narrow for window in out for narrow in self._release_minutes(window, f))

    def _release_minutes(self, window: tuple[float, float], f: float) -> list[tuple[float, float]]:
        """The window, or the (empty-length) windows at the one or two whole minutes that most of the
        precisely known openings around it agree on."""
        lo, hi = int(window[0] // 60), int(window[1] // 60)
        reach = int(_MINUTE_SPREAD_S // 60)
        total = f * sum(self.released.get(m % DAY_MINUTES, 0.0) for m in range(lo - reach, hi + reach + 1))
        if total < MINUTE_EVIDENCE:
            return [window]
        agree = {m: self.minutes.get(m % DAY_MINUTES, 0.0) * f for m in range(lo, hi + 1)}
        # Minutes nearly every opening agrees with (two when the checks could not tell them apart), else
        # the two minutes that share them (releases alternating between two minutes).
        kept = [m for m in agree if agree[m] >= MINUTE_SHARE * total]
        if not kept:
            ranked = sorted(agree, key=lambda m: -agree[m])[:MAX_RELEASE_MINUTES]
            kept = ranked if sum(agree[m] for m in ranked) >= MINUTE_SHARE * total else []
        if not 0 < len(kept) <= MAX_RELEASE_MINUTES:
            return [window]
        return [(m * 60.0, m * 60.0) for m in sorted(kept)]

    # --- persistence ---------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return {
            "half_life_s": self.half_life_s,
            "ref": self.ref.isoformat() if self.ref else None,
            "cells": {f"{lv}:{b}": v for (lv, b), v in self.cells.items()},
            "exposure": {str(k): v for k, v in self.exposure.items()},
            "blocks": list(self.blocks),
            "block_exp": list(self.block_exp),
            "week": _saved(self.week),
            "day": _saved(self.day),
            "minutes": _saved(self.minutes),
            "released": _saved(self.released),
            "observed_s": self.observed_s,
            "run": [self.run_n, self.run_level, self.run_routine],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TargetStats:
        ref = data.get("ref")
        run = data.get("run", [0, 0, False])
        cells = {}
        for key, value in data.get("cells", {}).items():
            lv, b = key.split(":")
            cells[(int(lv), int(b))] = float(value)
        return cls(
            half_life_s=float(data.get("half_life_s", 21 * 86400.0)),
            ref=datetime.fromisoformat(ref) if ref else None,
            cells=cells,
            exposure={int(k): float(v) for k, v in data.get("exposure", {}).items()},
            blocks=[float(v) for v in data.get("blocks", [0.0] * N_BLOCKS)],
            block_exp=[float(v) for v in data.get("block_exp", [0.0] * N_BLOCKS)],
            week=_loaded(data, "week"),
            day=_loaded(data, "day"),
            minutes=_loaded(data, "minutes"),
            released=_loaded(data, "released"),
            observed_s=float(data.get("observed_s", 0.0)),
            run_n=int(run[0]),
            run_level=int(run[1]),
            run_routine=bool(run[2]),
        )
