# SPDX-License-Identifier: AGPL-3.0-or-later
"""Per-host politeness: how often, how many at once and how many HTTP requests creneau may ask of one site.

Pure accounting driven by `now`. Checks start and end (`min_gap_s` between starts, `max_concurrent` at once);
budgets count the HTTP requests those checks send, because that is what the sites count: one legacy check
walks ~4 + 2 per guichet pages (more when a guichet shows a calendar), an RDV Préfecture check 1–4, an ANTS
check one. `wait_until(rules, state, now, requests)` says when a check expected to cost `requests` may start
(None: now), `begin` charges that estimate, `settle` replaces it by what the check really sent and `end`
frees its place. Days are counted in Europe/Paris (a site's day); the minute and hour windows slide (the
legacy module bans a client for 1–24 h above ~200 requests in an hour).
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from creneau.types import PARIS, System


@dataclass(frozen=True, slots=True)
class HostRules:
    """Limits for one host: `min_gap_s` between check starts, `max_concurrent` checks at once, and budgets of
    HTTP requests per sliding minute, sliding hour and Paris day (0: no cap of that kind)."""

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


# What each booking system tolerates (slot-dynamics.md §8 "Error episodes", booking-systems.md §6), in requests:
# - legacy module: 502 above ~1 request/s for 10 s (the HTTP client paces each request `legacy_request_gap_s`
#   apart), a 1–24 h ban above ~200 requests an hour per IP. 160 an hour leaves 40 for what a check in flight
#   may send beyond its estimate (a form whose guichets all show calendars); 3,600 a day holds the average
#   at 150 an hour, a quarter under the ban.
# - RDV Préfecture: an edge challenge above ~30 requests a minute per IP; ANTS: 429 above 30 a minute.
DEFAULT_HOST_RULES: dict[System, HostRules] = {
    System.LEGACY: HostRules(min_gap_s=5.0, max_concurrent=1, hourly_budget=160, daily_budget=3_600),
    System.RDVPREF: HostRules(min_gap_s=1.0, max_concurrent=2, per_minute=25, hourly_budget=1_200, daily_budget=20_000),
    System.ANTS: HostRules(min_gap_s=0.5, max_concurrent=2, per_minute=25, hourly_budget=1_200, daily_budget=20_000),
}


@dataclass(slots=True)
class Charge:
    """The requests one check is counted for, from its start: its estimate until `settle` knows better."""

    at: datetime
    requests: int


@dataclass(slots=True)
class HostState:
    """What was asked of one host: last check start, checks in flight, the charges of the last hour and
    minute with their sums, today's requests, the routine request rate each watched target is planned
    at (requests/s, `planned`, with its sum `planned_rate`) and the dense checks planned on the host (target →
    when, expected requests: `dense`); the last two are kept by `monitor.cost`, and `dense` is rebuilt from
    the plans rather than saved."""

    last_start: datetime | None = None
    in_flight: int = 0
    hour: deque[Charge] = field(default_factory=deque)
    minute: deque[Charge] = field(default_factory=deque)
    hour_requests: int = 0
    minute_requests: int = 0
    day: str = ""
    used_today: int = 0
    total: int = 0
    day_end: datetime | None = None
    planned: dict[str, float] = field(default_factory=dict)
    planned_rate: float = 0.0
    dense: dict[str, tuple[datetime, int]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "last_start": self.last_start.isoformat() if self.last_start else None,
            "in_flight": self.in_flight,
            "hour": [[c.at.isoformat(), c.requests] for c in self.hour],
            "day": self.day,
            "used_today": self.used_today,
            "total": self.total,
            "planned": dict(self.planned),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> HostState:
        last = data.get("last_start")
        # Older snapshots list bare start times: one request each.
        hour = [Charge(*_entry(item)) for item in data.get("hour", ())]
        planned = {str(k): float(v) for k, v in data.get("planned", {}).items()}
        return cls(
            last_start=datetime.fromisoformat(last) if last else None,
            # Requests in flight when the state was saved died with their process.
            in_flight=0,
            hour=deque(hour),
            minute=deque(hour),  # the minute's charges are the hour's last ones; the next roll trims them
            hour_requests=sum(c.requests for c in hour),
            minute_requests=sum(c.requests for c in hour),
            day=str(data.get("day", "")),
            used_today=int(data.get("used_today", 0)),
            total=int(data.get("total", 0)),
            planned=planned,
            planned_rate=sum(planned.values()),
        )


def _entry(item: Any) -> tuple[datetime, int]:
    if isinstance(item, str):
        return datetime.fromisoformat(item), 1
    at, requests = item
    return datetime.fromisoformat(at), int(requests)


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
    while state.hour and state.hour[0].at <= horizon:
        state.hour_requests -= state.hour.popleft().requests
    horizon = now - _MINUTE
    while state.minute and state.minute[0].at <= horizon:
        state.minute_requests -= state.minute.popleft().requests


def _window_wait(charges: deque[Charge], used: int, budget: int, requests: int, span: timedelta) -> datetime | None:
    """When enough of the window's charges will have left it for `requests` more to fit in `budget`."""
    need = used + min(requests, budget) - budget
    if not budget or need <= 0:
        return None
    for charge in charges:
        need -= charge.requests
        if need <= 0:
            return charge.at + span
    return charges[-1].at + span if charges else None  # unreachable while `used` is the charges' sum


def wait_until(rules: HostRules, state: HostState, now: datetime, requests: int = 1) -> datetime | None:
    """The earliest instant a check expected to send `requests` requests may start on this host, or None
    when it may start now.

    A check costing more than a whole budget waits for an empty window rather than for ever. A spent daily
    budget defers to the next Paris midnight; with every concurrency slot taken the answer is only a hint
    (`now + min_gap`), since when the running checks end is not known in advance.
    """
    _roll(state, now)
    waits: list[datetime] = []
    if rules.daily_budget and state.used_today + min(requests, rules.daily_budget) > rules.daily_budget:
        waits.append(next_paris_midnight(now))
    for charges, used, budget, span in (
        (state.hour, state.hour_requests, rules.hourly_budget, _HOUR),
        (state.minute, state.minute_requests, rules.per_minute, _MINUTE),
    ):
        if (when := _window_wait(charges, used, budget, requests, span)) is not None:
            waits.append(when)
    if state.last_start is not None:
        gap = state.last_start + timedelta(seconds=rules.min_gap_s)
        if gap > now:
            waits.append(gap)
    if state.in_flight >= rules.max_concurrent:
        waits.append(now + timedelta(seconds=max(rules.min_gap_s, 1.0)))
    later = max(waits) if waits else None
    return later if later is not None and later > now else None


def budget_rate(rules: HostRules) -> float:
    """Requests per second the host's tightest request budget allows on average (inf: no budget)."""
    per_s = [n / span for n, span in ((rules.per_minute, 60), (rules.hourly_budget, 3600), (rules.daily_budget, 86400))]
    return min((rate for rate in per_s if rate > 0), default=math.inf)


def fits(rules: HostRules, state: HostState, requests: int) -> bool:
    """Whether `requests` more fit the host's sliding minute and hour budgets now (call after `wait_until`)."""
    return all(
        not budget or used + requests <= budget
        for used, budget in ((state.minute_requests, rules.per_minute), (state.hour_requests, rules.hourly_budget))
    )


def begin(state: HostState, now: datetime, requests: int = 1) -> Charge:
    """Record the start of one check expected to send `requests` requests (call only when `wait_until`
    said None); returns its charge, for `settle`."""
    _roll(state, now)
    charge = Charge(now, requests)
    state.last_start = now
    state.in_flight += 1
    state.hour.append(charge)
    state.minute.append(charge)
    state.hour_requests += requests
    state.minute_requests += requests
    state.used_today += requests
    state.total += requests
    return charge


def settle(state: HostState, charge: Charge, requests: int, now: datetime) -> None:
    """The check charged at `charge.at` really sent `requests` requests: correct every count it is in."""
    _roll(state, now)
    delta = requests - charge.requests
    charge.requests = requests
    if charge.at > now - _HOUR:
        state.hour_requests += delta
    if charge.at > now - _MINUTE:
        state.minute_requests += delta
    if paris_day(charge.at) == state.day:
        state.used_today = max(0, state.used_today + delta)
    state.total = max(0, state.total + delta)


def end(state: HostState) -> None:
    """Record the end of one check, whatever its outcome."""
    state.in_flight = max(0, state.in_flight - 1)


def describe(rules: HostRules, state: HostState, now: datetime) -> str:
    _roll(state, now)
    parts = [f"{state.used_today}" + (f"/{rules.daily_budget}" if rules.daily_budget else "") + " requests today"]
    if rules.hourly_budget:
        parts.append(f"{state.hour_requests}/{rules.hourly_budget} in the last hour")
    if rules.per_minute:
        parts.append(f"{state.minute_requests}/{rules.per_minute} in the last minute")
    parts.append(f"checks ≥ {rules.min_gap_s:g} s apart, ≤ {rules.max_concurrent} at once")
    return ", ".join(parts)
