# SPDX-License-Identifier: AGPL-3.0-or-later
"""Per-host politeness: how often, how many at once and how many a day creneau may ask one site.

Pure accounting driven by `now`: `wait_until(rules, state, now)` says when the next request to the host may
start (None: now), `begin` / `end` record a request. Days are counted in Europe/Paris (a site's day), and
the hourly window is a sliding one (the legacy module bans more than ~200 requests an hour per client).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from creneau.types import PARIS, System


@dataclass(frozen=True, slots=True)
class HostRules:
    """Limits for one host; a budget of 0 means no cap of that kind (sliding minute and hour, Paris day)."""

    min_gap_s: float = 3.0
    max_concurrent: int = 2
    hourly_budget: int = 0
    daily_budget: int = 0
    per_minute: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "min_gap_s": self.min_gap_s,
            "max_concurrent": self.max_concurrent,
            "hourly_budget": self.hourly_budget,
            "daily_budget": self.daily_budget,
            "per_minute": self.per_minute,
        }


# What each booking system tolerates (slot-dynamics.md §7), with a margin: the legacy module answers 502 above
# ~1 request/s and bans above ~200/h; RDV Préfecture's edge challenges above ~30/min; ANTS returns 429 above 30/min.
DEFAULT_HOST_RULES: dict[System, HostRules] = {
    System.LEGACY: HostRules(min_gap_s=5.0, max_concurrent=1, hourly_budget=150, daily_budget=3_000),
    System.RDVPREF: HostRules(min_gap_s=1.0, max_concurrent=2, per_minute=25, hourly_budget=1_200, daily_budget=20_000),
    System.ANTS: HostRules(min_gap_s=0.5, max_concurrent=2, per_minute=25, hourly_budget=1_200, daily_budget=20_000),
}


@dataclass(slots=True)
class HostState:
    """What was asked of one host: last start, requests in flight, starts in the last hour, today's count."""

    last_start: datetime | None = None
    in_flight: int = 0
    hour: deque[datetime] = field(default_factory=deque)
    minute: deque[datetime] = field(default_factory=deque)
    day: str = ""
    used_today: int = 0
    total: int = 0
    day_end: datetime | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "last_start": self.last_start.isoformat() if self.last_start else None,
            "in_flight": self.in_flight,
            "hour": [t.isoformat() for t in self.hour],
            "minute": [t.isoformat() for t in self.minute],
            "day": self.day,
            "used_today": self.used_today,
            "total": self.total,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> HostState:
        last = data.get("last_start")
        return cls(
            last_start=datetime.fromisoformat(last) if last else None,
            # Requests in flight when the state was saved died with their process.
            in_flight=0,
            hour=deque(datetime.fromisoformat(t) for t in data.get("hour", ())),
            minute=deque(datetime.fromisoformat(t) for t in data.get("minute", ())),
            day=str(data.get("day", "")),
            used_today=int(data.get("used_today", 0)),
            total=int(data.get("total", 0)),
        )


_HOUR = timedelta(hours=1)
_MINUTE = timedelta(minutes=1)


def paris_day(now: datetime) -> str:
    return now.astimezone(PARIS).date().isoformat()


def next_paris_midnight(now: datetime) -> datetime:
    local = now.astimezone(PARIS)
    midnight = datetime.combine(local.date() + timedelta(days=1), datetime.min.time(), tzinfo=PARIS)
    return midnight.astimezone(now.tzinfo)


def _roll(state: HostState, now: datetime) -> None:
    if state.day_end is None or now >= state.day_end:
        day = paris_day(now)
        if state.day != day:
            state.day, state.used_today = day, 0
        state.day_end = next_paris_midnight(now)
    horizon = now - _HOUR
    while state.hour and state.hour[0] <= horizon:
        state.hour.popleft()
    horizon = now - _MINUTE
    while state.minute and state.minute[0] <= horizon:
        state.minute.popleft()


def wait_until(rules: HostRules, state: HostState, now: datetime) -> datetime | None:
    """The earliest instant a new request to this host may start, or None when it may start now.

    A spent daily budget defers to the next Paris midnight; with every concurrency slot taken the answer is
    only a hint (`now + min_gap`), since when the running requests end is not known in advance.
    """
    _roll(state, now)
    waits: list[datetime] = []
    if rules.daily_budget and state.used_today >= rules.daily_budget:
        waits.append(next_paris_midnight(now))
    if rules.hourly_budget and len(state.hour) >= rules.hourly_budget:
        waits.append(state.hour[len(state.hour) - rules.hourly_budget] + _HOUR)
    if rules.per_minute and len(state.minute) >= rules.per_minute:
        waits.append(state.minute[len(state.minute) - rules.per_minute] + _MINUTE)
    if state.last_start is not None:
        gap = state.last_start + timedelta(seconds=rules.min_gap_s)
        if gap > now:
            waits.append(gap)
    if state.in_flight >= rules.max_concurrent:
        waits.append(now + timedelta(seconds=max(rules.min_gap_s, 1.0)))
    later = max(waits) if waits else None
    return later if later is not None and later > now else None


def begin(state: HostState, now: datetime) -> None:
    """Record the start of one request (call only when `wait_until` said None)."""
    _roll(state, now)
    state.last_start = now
    state.in_flight += 1
    state.hour.append(now)
    state.minute.append(now)
    state.used_today += 1
    state.total += 1


def end(state: HostState) -> None:
    """Record the end of one request, whatever its outcome."""
    state.in_flight = max(0, state.in_flight - 1)


def describe(rules: HostRules, state: HostState, now: datetime) -> str:
    _roll(state, now)
    parts = [f"{state.used_today}" + (f"/{rules.daily_budget}" if rules.daily_budget else "") + " requests today"]
    if rules.hourly_budget:
        parts.append(f"{len(state.hour)}/{rules.hourly_budget} in the last hour")
    if rules.per_minute:
        parts.append(f"{len(state.minute)}/{rules.per_minute} in the last minute")
    parts.append(f"≥ {rules.min_gap_s:g} s apart, ≤ {rules.max_concurrent} at once")
    return ", ".join(parts)
