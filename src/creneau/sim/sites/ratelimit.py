# SPDX-License-Identifier: AGPL-3.0-or-later
"""Failures triggered by how hard one client IP hits one host (`World.rules`), in scenario time.

- legacy: more than `legacy_burst_rps` × `legacy_burst_window_s` requests within the window → 502 for
  `legacy_bad_gateway_s`; more than `legacy_hourly_limit` within an hour → 403 "Request forbidden by
  administrative rules" for `legacy_ban_s`;
- RDV Préfecture: more than `rdvpref_challenge_per_min` within a minute → edge challenge for
  `rdvpref_challenge_s`;
- ANTS: more than `ants_per_min` within a minute → 429 with Retry-After (until the window frees a place);
- every host: `background_5xx_rate` of requests get a 502.

Every request counts, refused ones included (the edge sees them all), except on ANTS where, as with
slowapi's moving window, a refused request is not counted. A value of 0 disables a rule.
"""

from __future__ import annotations

import math
import random
from collections import Counter, deque
from dataclasses import dataclass, field
from datetime import datetime

from creneau.sim.model import EpisodeKind, RateRules


@dataclass(frozen=True, slots=True)
class Decision:
    kind: EpisodeKind
    retry_after_s: int | None = None
    reason: str = ""


@dataclass
class _Counters:
    recent: deque[float] = field(default_factory=deque)  # burst or per-minute window
    hour: deque[float] = field(default_factory=deque)
    blocked_until: float = 0.0  # 403 ban (legacy) or challenge (rdvpref)
    bad_gateway_until: float = 0.0


def _push(window: deque[float], t: float, span: float) -> int:
    window.append(t)
    while window and window[0] <= t - span:
        window.popleft()
    return len(window)


class RateGate:
    """Per (client IP, host) counters. Bounded by the number of distinct clients × hosts seen."""

    def __init__(self, rules: RateRules, rng: random.Random) -> None:
        self.rules = rules
        self.rng = rng
        self._state: dict[tuple[str, str], _Counters] = {}
        self.refused: Counter[EpisodeKind] = Counter()  # what the rules answered, for tests and benchmarks

    def check(self, system: str, host: str, ip: str, now: datetime) -> Decision | None:
        """Count this request and say which failure, if any, the site answers with."""
        t = now.timestamp()
        state = self._state.get((ip, host))
        if state is None:
            state = self._state[(ip, host)] = _Counters()
        decision: Decision | None = None
        if system == "legacy":
            decision = self._legacy(state, t)
        elif system == "rdvpref":
            decision = self._rdvpref(state, t)
        elif system == "ants":
            decision = self._ants(state, t)
        if (
            decision is None
            and self.rules.background_5xx_rate > 0
            and self.rng.random() < self.rules.background_5xx_rate
        ):
            decision = Decision(EpisodeKind.BAD_GATEWAY, reason="background 5xx")
        if decision is not None:
            self.refused[decision.kind] += 1
        return decision

    def _legacy(self, s: _Counters, t: float) -> Decision | None:
        r = self.rules
        burst = _push(s.recent, t, r.legacy_burst_window_s) if r.legacy_burst_rps > 0 else 0
        hourly = _push(s.hour, t, 3600.0) if r.legacy_hourly_limit > 0 else 0
        if t < s.blocked_until:
            return Decision(EpisodeKind.FORBIDDEN, reason="legacy ban")
        if r.legacy_hourly_limit > 0 and hourly > r.legacy_hourly_limit:
            s.blocked_until = t + r.legacy_ban_s
            return Decision(EpisodeKind.FORBIDDEN, reason=f"> {r.legacy_hourly_limit} requests/hour")
        if t < s.bad_gateway_until:
            return Decision(EpisodeKind.BAD_GATEWAY, reason="legacy burst")
        if r.legacy_burst_rps > 0 and burst > r.legacy_burst_rps * r.legacy_burst_window_s:
            s.bad_gateway_until = t + r.legacy_bad_gateway_s
            return Decision(EpisodeKind.BAD_GATEWAY, reason=f"> {r.legacy_burst_rps} requests/s")
        return None

    def _rdvpref(self, s: _Counters, t: float) -> Decision | None:
        r = self.rules
        if r.rdvpref_challenge_per_min <= 0:
            return None
        count = _push(s.recent, t, 60.0)
        if t < s.blocked_until:
            return Decision(EpisodeKind.CHALLENGE, reason="edge challenge")
        if count > r.rdvpref_challenge_per_min:
            s.blocked_until = t + r.rdvpref_challenge_s
            return Decision(EpisodeKind.CHALLENGE, reason=f"> {r.rdvpref_challenge_per_min} requests/min")
        return None

    def _ants(self, s: _Counters, t: float) -> Decision | None:
        limit = self.rules.ants_per_min
        if limit <= 0:
            return None
        while s.recent and s.recent[0] <= t - 60.0:
            s.recent.popleft()
        if len(s.recent) >= limit:
            # slowapi's moving window: a refused hit is not counted; a place frees when the oldest is 60 s old
            wait = max(1, math.ceil(s.recent[0] + 60.0 - t))
            return Decision(EpisodeKind.RATE_LIMITED, retry_after_s=wait, reason=f"> {limit} requests/min")
        s.recent.append(t)
        return None
