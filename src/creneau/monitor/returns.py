# SPDX-License-Identifier: AGPL-3.0-or-later
"""Slots that come back a fixed time after they went away: held bookings nobody confirmed.

The legacy booking module holds a booked slot until the booker confirms by e-mail: 60 minutes on today's
forms ("Vous disposez de 60 minutes pour confirmer"), 5 on older ones (booking-systems.md §2.2). An
unconfirmed hold comes back as the very same slot (same guichet, same time), on a hot target the only one
shown, for a minute or so. `Returns` learns that from the checks alone, for any target:

- it remembers which slots went away and when (between the last check that showed them and the first that
  did not), for up to `MAX_DELAY_S`;
- when one of them shows again, the delay lies between two bounds; the delay most returns agree on (the
  intersection of the bounds of the returns that contain it) is the target's return delay, once
  `EVIDENCE` (decayed) returns agree and they are `AGREE_SHARE` of all;
- then every time slots go away, the span where they went, moved by that delay and widened by `MARGIN_S`,
  is checked every `STEP_S` (`next_check`).

Until a target has learned its own delay, the delays its kind of site is known to hold bookings for (`prior`,
e.g. 5 and 60 minutes on the legacy module) are followed the same way, which is how the first returns get
seen at all (they show for about a minute, between routine checks minutes apart); a prior delay that
`EXPLORE_EVENTS` departures in a row never saw come back is dropped. A target whose slots come back at
random (cancellations) learns no delay and, once its prior is dropped, costs nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

MAX_DELAY_S = 2 * 3600.0  # holds last 5 or 60 minutes; a slot gone longer is a cancellation, not a hold
MAX_SPREAD_S = 600.0  # a return known less precisely than this teaches nothing
MAX_GONE = 500  # slots remembered (a big batch taken within minutes)
MAX_SAMPLES = 40
EVIDENCE = 2.0
AGREE_SHARE = 0.5
MARGIN_S = 10.0
STEP_S = 30.0  # a returned hold shows for about a minute on a hot target (slot-dynamics §8)
HALF_LIFE_S = 21 * 86400.0
PRIOR_SLACK_S = 20.0  # a known hold time, give or take the site's own timing
EXPLORE_EVENTS = 30


@dataclass(frozen=True, slots=True)
class Gone:
    """A slot (its detector key) that went away in (`lo`, `hi`]."""

    key: str
    lo: datetime
    hi: datetime


@dataclass(frozen=True, slots=True)
class Sample:
    """One return: the slot came back between `lo_s` and `hi_s` seconds after it went away, seen at `at`."""

    lo_s: float
    hi_s: float
    at: datetime


@dataclass(slots=True)
class Returns:
    """What one target's checks showed of slots going away and coming back (see module docstring)."""

    shown: frozenset[str] = frozenset()
    shown_at: datetime | None = None
    gone: list[Gone] = field(default_factory=list)
    samples: list[Sample] = field(default_factory=list)
    spans: list[tuple[datetime, datetime]] = field(default_factory=list)
    tried: dict[int, int] = field(default_factory=dict)  # prior delay (s) → departures followed for it
    showing_since: datetime | None = None  # the first of the checks in a row that showed slots

    def observe(self, keys: frozenset[str], now: datetime, prior: Sequence[float] = ()) -> None:
        """A conclusive check at `now` showed the slots `keys` (empty: none); `prior`: the hold times (s) the
        target's kind of site is known for."""
        before = self.shown_at
        if before is not None and now > before and keys != self.shown:
            self._learn(keys, before, now)
            vanished = self.shown - keys
            if vanished:
                self.gone.extend(Gone(key, before, now) for key in vanished)
                for lo, hi in self._to_follow(now, prior):
                    self._expect(before + timedelta(seconds=lo), now + timedelta(seconds=hi))
        horizon = now - timedelta(seconds=MAX_DELAY_S)
        if self.gone and (self.gone[0].hi <= horizon or len(self.gone) > MAX_GONE):
            self.gone = [g for g in self.gone if g.hi > horizon][-MAX_GONE:]  # in time order
        if self.spans and self.spans[0][1] <= now:
            self.spans = [(a, b) for a, b in self.spans if b > now]
        if not keys:
            self.showing_since = None
        elif self.showing_since is None:
            self.showing_since = now
        self.shown, self.shown_at = keys, now

    def _learn(self, keys: frozenset[str], before: datetime, now: datetime) -> None:
        back = keys - self.shown
        if not back:
            return
        latest = {g.key: g for g in self.gone if g.key in back}  # the list is in time order: the last wins
        for g in latest.values():
            lo, hi = (before - g.hi).total_seconds(), (now - g.lo).total_seconds()
            if hi - lo <= MAX_SPREAD_S:
                self.samples.append(Sample(max(0.0, lo), hi, now))
        if latest:
            self.gone = [g for g in self.gone if g.key not in latest]
            self.samples = self.samples[-MAX_SAMPLES:]

    def _expect(self, start: datetime, end: datetime) -> None:
        margin = timedelta(seconds=MARGIN_S)
        start, end = start - margin, end + margin
        for i, (a, b) in enumerate(self.spans):
            if start <= b and a <= end:
                self.spans[i] = (min(a, start), max(b, end))
                return
        self.spans.append((start, end))
        self.spans.sort()

    def _to_follow(self, now: datetime, prior: Sequence[float]) -> list[tuple[float, float]]:
        """The return delays to follow now, as (earliest, latest) seconds: the learned one, else the prior
        delays not yet ruled out (each call counts one departure followed for them)."""
        learned = self.delay(now)
        if learned is not None:
            return [learned]
        out = []
        for d in prior:
            seen = any(s.lo_s - PRIOR_SLACK_S <= d <= s.hi_s + PRIOR_SLACK_S for s in self.samples)
            tried = self.tried.get(int(d), 0)
            if seen or tried < EXPLORE_EVENTS:
                self.tried[int(d)] = 0 if seen else tried + 1
                out.append((d - PRIOR_SLACK_S, d + PRIOR_SLACK_S))
        return out

    def delay(self, now: datetime) -> tuple[float, float] | None:
        """The learned return delay as (earliest, latest) seconds, or None while returns do not agree."""
        weighted = [(s, 2.0 ** -((now - s.at).total_seconds() / HALF_LIFE_S)) for s in self.samples]
        total = sum(w for _, w in weighted)
        if total < EVIDENCE:
            return None
        best, best_w = None, 0.0
        for point in {s.lo_s for s, _ in weighted} | {s.hi_s for s, _ in weighted}:
            w = sum(weight for s, weight in weighted if s.lo_s <= point <= s.hi_s)
            if w > best_w:
                best, best_w = point, w
        if best is None or best_w < EVIDENCE or best_w < AGREE_SHARE * total:
            return None
        agreeing = [s for s, _ in weighted if s.lo_s <= best <= s.hi_s]
        return max(s.lo_s for s in agreeing), min(s.hi_s for s in agreeing)

    def next_check(self, after: datetime) -> datetime | None:
        """The first return check strictly after `after`: each span from its start every `STEP_S`. None while
        the target has shown slots since before the span: a slot coming back would only add to them, where
        on a target showing none it is an opening (slots that came back during the span do not stop it: the
        other holds of the same batch may follow)."""
        step = timedelta(seconds=STEP_S)
        for start, end in self.spans:
            if end <= after:
                continue
            if self.showing_since is not None and self.showing_since < start:
                return None
            if start > after:
                return start
            candidate = start + step * (int((after - start) / step) + 1)
            return min(candidate, end)
        return None

    def to_dict(self) -> dict[str, Any]:
        """What is worth keeping across a restart: the returns learned and the spans still to check (the
        slots shown and gone are not: a restart only forgets the returns of the slots that went just before)."""
        return {
            "samples": [[s.lo_s, s.hi_s, s.at.isoformat()] for s in self.samples],
            "spans": [[a.isoformat(), b.isoformat()] for a, b in self.spans],
            "tried": {str(k): v for k, v in self.tried.items()},
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Returns:
        return cls(
            samples=[Sample(float(a), float(b), datetime.fromisoformat(t)) for a, b, t in data.get("samples", ())],
            spans=[(datetime.fromisoformat(a), datetime.fromisoformat(b)) for a, b in data.get("spans", ())],
            tried={int(k): int(v) for k, v in data.get("tried", {}).items()},
        )
