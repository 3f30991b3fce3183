# SPDX-License-Identifier: AGPL-3.0-or-later
"""Dense checks at the moments slots are known or likely to appear.

- Announced publications ("Prochaine mise en ligne … à 08:30"): a batch due at T becomes visible between T
  and T+60 s (the backend copies free slots to its cache every minute; slot-dynamics §6), so the target is
  checked once before T (to notice a moved instant) and then every ~10 s from T to T+70 s, with a short tail.
- Learned release windows (week-second ranges from `TargetStats.windows`): scheduled releases fall on whole
  minutes (an agent picks a date and a minute, slot-dynamics §1), so a window is checked at every whole
  minute from its start to its end; where the site shows a batch up to `lag_s` later (RDV Préfecture's
  60 s cache), also every `window_step_s` in between and until the lag has run out.
Once a dense series has caught new slots, the rest of it is skipped (`satisfied_until`). When its checks met
only site errors ("Service surchargé" falls on the instant of many hot publications), quick retries go on
after it for up to `follow_up_s` (`series`), until the site answers normally again.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from creneau.monitor.learning import WEEK_S, at_week_second


@dataclass(frozen=True, slots=True)
class Timing:
    burst_offsets_s: tuple[float, ...] = (0, 10, 20, 30, 40, 50, 60, 70, 90, 120, 180)
    pre_check_s: float = 900.0
    window_step_s: float = 20.0
    # How long after a dense series began quick retries go on while the site answers only errors (overloads
    # at an instant last LogNormal(median 2 min, p90 6 min), slot-dynamics §8: 15 min covers ~99 %).
    follow_up_s: float = 900.0

    @property
    def burst_checks(self) -> int:
        return len(self.burst_offsets_s) + (1 if self.pre_check_s else 0)

    def step(self, lag_s: float) -> float:
        return self.window_step_s if lag_s > 0 else 60.0

    def window_checks(self, window: tuple[float, float], lag_s: float) -> int:
        return int((window[1] - window[0] + lag_s) // self.step(lag_s)) + 1


def burst_end(timing: Timing, instant: datetime) -> datetime:
    return instant + timedelta(seconds=timing.burst_offsets_s[-1])


def next_announced(
    timing: Timing, instants: Iterable[datetime], after: datetime, satisfied_until: datetime | None
) -> datetime | None:
    """The first burst check strictly after `after` for any pending publication instant."""
    best: datetime | None = None
    for instant in instants:
        times = [instant - timedelta(seconds=timing.pre_check_s)] if timing.pre_check_s else []
        if satisfied_until is None or satisfied_until < instant:
            times += [instant + timedelta(seconds=o) for o in timing.burst_offsets_s]
        for t in times:
            if t > after:
                if best is None or t < best:
                    best = t
                break
    return best


def current_window(
    windows: Sequence[tuple[float, float]], t: datetime, lag_s: float
) -> tuple[datetime, datetime] | None:
    """The window occurrence (start, end incl. lag) containing `t`, if any."""
    for lo, hi in windows:
        for week in (0, -1):
            start = at_week_second(t + timedelta(days=7 * week), lo)
            end = start + timedelta(seconds=hi - lo + lag_s)
            if start <= t <= end:
                return start, end
    return None


def next_window(
    timing: Timing,
    windows: Sequence[tuple[float, float]],
    after: datetime,
    satisfied_until: datetime | None,
    lag_s: float,
) -> datetime | None:
    """The first window check strictly after `after` (skipping occurrences already satisfied)."""
    best: datetime | None = None
    step = timedelta(seconds=timing.step(lag_s))
    for lo, hi in windows:
        length = timedelta(seconds=hi - lo + lag_s)
        for week in (-1, 0, 1):
            start = at_week_second(after + timedelta(days=7 * week), lo)
            end = start + length
            if end <= after or (satisfied_until is not None and satisfied_until >= end):
                continue
            if start > after:
                candidate = start
            else:
                candidate = start + step * (int((after - start) / step) + 1)
                if candidate > end:
                    continue
            if best is None or candidate < best:
                best = candidate
            break
    return best


def series(
    timing: Timing, instants: Iterable[datetime], windows: Sequence[tuple[float, float]], now: datetime, lag_s: float
) -> list[tuple[datetime, datetime]]:
    """The dense series (start, end of its checks) that began at most `follow_up_s` before `now`: announced
    bursts and window occurrences."""
    follow = timedelta(seconds=timing.follow_up_s)
    out = [(t, burst_end(timing, t)) for t in instants if t <= now <= t + follow]
    occurrence = current_window(windows, now, lag_s + timing.follow_up_s) if windows else None
    if occurrence is not None:
        # One step past the window's last check: a check the host made a little late (at a release minute
        # every target of the host is due at once) still belongs to it.
        out.append((occurrence[0], occurrence[1] - follow + timedelta(seconds=timing.step(lag_s))))
    return out


def weekly_window_checks(timing: Timing, windows: Sequence[tuple[float, float]], lag_s: float) -> int:
    """Requests a week the windows cost at most."""
    return sum(timing.window_checks(w, lag_s) for w in windows if w[1] - w[0] < WEEK_S)
