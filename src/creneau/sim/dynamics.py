# SPDX-License-Identifier: AGPL-3.0-or-later
"""Turning publications into slots with lifetimes, and booked slots into returns (slot-dynamics.md §8).

`Sink` collects one world's slots, publications and episodes with world-wide ids; the scenario loader
uses it for scripted batches and the France generator (`simulate_target`) for whole agendas.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from random import Random

from creneau.sim.france import PP_HOST
from creneau.sim.laws import (
    DAY,
    WEEK,
    Lifetime,
    local,
    local_date,
    local_minutes,
    monday_of,
    poisson,
    season_factor,
    slot_grid,
    weighted,
)
from creneau.sim.model import (
    CloseReason,
    Episode,
    EpisodeKind,
    Publication,
    PublicationMode,
    SimSlot,
    SimTarget,
    SlotOrigin,
)
from creneau.sim.params import FranceParams
from creneau.types import System


@dataclass
class Sink:
    """Where a world's items go. Slots are cut at `start - cutoff` of their appointment (expired)."""

    start: datetime
    end: datetime
    cutoff: timedelta = timedelta(hours=1)
    night: tuple[int, int] = (60, 360)
    night_factor: float = 3.0
    slots: list[SimSlot] = field(default_factory=list)
    publications: list[Publication] = field(default_factory=list)
    episodes: list[Episode] = field(default_factory=list)
    next_slot: int = 1
    next_pub: int = 1

    def pub_id(self) -> int:
        self.next_pub += 1
        return self.next_pub - 1

    def factor(self, visible: datetime) -> float:
        """Night factor for human lifetimes of slots that show up at `visible`."""
        lo, hi = self.night
        return self.night_factor if lo <= local_minutes(visible) < hi else 1.0

    def slot(
        self,
        target_id: str,
        start: datetime,
        visible: datetime,
        life: Lifetime | None,
        rng: Random,
        *,
        factor: float = 1.0,
        planning: str | None = None,
        origin: SlotOrigin = SlotOrigin.BATCH,
        publication_id: int | None = None,
        returns: int | None = None,
        close: datetime | None = None,
    ) -> SimSlot | None:
        """Add one slot (None when its time is already too close to book). `life` None: nobody takes it;
        `close` forces the taking instant (swaps)."""
        expiry = start - self.cutoff
        if visible >= expiry:
            return None
        if close is None and life is not None:
            close = visible + timedelta(seconds=life.sample(rng, factor))
        reason = CloseReason.TAKEN
        if close is None or close >= expiry:
            close, reason = expiry, CloseReason.EXPIRED
        slot = SimSlot(
            self.next_slot, target_id, start, visible, close, planning, origin, publication_id, reason, returns
        )
        self.next_slot += 1
        self.slots.append(slot)
        return slot


def weeks(first: datetime, end: datetime) -> Iterator[date]:
    """The Mondays of every week that overlaps [first, end)."""
    monday, last = monday_of(local_date(first)), local_date(end)
    while monday <= last:
        yield monday
        monday += WEEK


def pick_minute(rng: Random, windows: tuple[tuple[int, int], ...], step: int = 0) -> float:
    """A uniform time inside `windows` (weighted by length); rounded down to `step` minutes when > 0."""
    lo, hi = weighted(rng, [(max(b - a, 1e-9), (a, b)) for a, b in windows])
    m = rng.uniform(lo, hi)
    return float(int(m) // step * step) if step else m


class Agenda:
    """One target's whole run: when it publishes, what, and how its bookings come back."""

    def __init__(self, sink: Sink, p: FranceParams, target: SimTarget, rng: Random, gen_start: datetime) -> None:
        self.sink, self.p, self.target, self.rng = sink, p, target, rng
        self.gen_start = gen_start
        self.cls = target.office_class
        self.life = p.lifetimes.get(self.cls)
        self.rate = p.batches_per_week.get(self.cls, 0.0)
        self.lag = p.visibility_lag_s.get(target.system.value, 0.0)
        self.legacy = target.system is System.LEGACY
        self.hold = timedelta(minutes=weighted(rng, p.hold_minutes))
        self.horizon = 0
        self.taken: list[SimSlot] = []
        self.returned: set[int] = set()

    def run(self) -> None:
        if self.cls == "dead":
            return
        for t, mode in sorted(self.schedule()):
            self.publish(t, mode)
        self.purges()

    # --- when ----------------------------------------------------------------------------------------
    def schedule(self) -> Iterator[tuple[datetime, PublicationMode]]:
        p, rng, system = self.p, self.rng, self.target.system
        if system is System.ANTS:
            yield from self._ants_schedule()
            return
        if system is System.RDVPREF:
            mode = PublicationMode(weighted(rng, [(w, m) for m, w in p.rdvpref_modes.items()]))
        else:
            mode = PublicationMode(weighted(rng, [(w, m) for m, w in p.legacy_modes.items()]))
        if mode is PublicationMode.WEEKLY_FIXED:
            yield from self._weekly()
        elif mode is PublicationMode.PUBLISH_NOW:
            yield from self._random_days(p.office_hours, 0, PublicationMode.PUBLISH_NOW, seconds=True)
        else:
            yield from self._random_days(p.random_window, 1, PublicationMode.RANDOM_IN_WEEK)

    def _weekly(self) -> Iterator[tuple[datetime, PublicationMode]]:
        p, rng = self.p, self.rng
        windows: tuple[tuple[int, int], ...]
        if self.legacy and self.target.host != PP_HOST:
            offset, window = weighted(rng, [(w, (d, win)) for w, d, win in p.legacy_weekly])
            windows = (window,)
        else:
            offset = weighted(rng, list(zip(p.weekly_weekdays, range(5), strict=False)))
            windows = (p.pp_window,) if self.legacy else weighted(rng, p.weekly_times)
        minute = pick_minute(rng, windows, p.scheduled_step_min)
        for monday in weeks(self.gen_start, self.sink.end):
            day = monday + timedelta(days=offset)
            t = local(day, minute)
            if self.gen_start <= t < self.sink.end and rng.random() < self.rate * season_factor(day, p.holiday_factor):
                yield t, PublicationMode.WEEKLY_FIXED

    def _random_days(
        self,
        windows: tuple[tuple[int, int], ...],
        step: int,
        mode: PublicationMode,
        *,
        rate: float | None = None,
        seconds: bool = False,
    ) -> Iterator[tuple[datetime, PublicationMode]]:
        rng = self.rng
        for monday in weeks(self.gen_start, self.sink.end):
            lam = (self.rate if rate is None else rate) * season_factor(
                monday + timedelta(days=2), self.p.holiday_factor
            )
            for _ in range(poisson(rng, lam)):
                minute = pick_minute(rng, windows, step)
                t = local(monday + timedelta(days=rng.randrange(5)), minute + (rng.random() / 60 if seconds else 0.0))
                if self.gen_start <= t < self.sink.end:
                    yield t, mode

    def _ants_schedule(self) -> Iterator[tuple[datetime, PublicationMode]]:
        p, rng = self.p, self.rng
        if self.cls == "starved":
            yield from self._random_days(p.office_hours, 0, PublicationMode.AD_HOC, seconds=True)
            return
        self.horizon = rng.randint(*p.ants_horizon_days)
        day, last = local_date(self.gen_start), local_date(self.sink.end)
        while day <= last:
            if (day + timedelta(days=self.horizon)).weekday() < 5 and self.gen_start <= (
                t := local(day, 0)
            ) < self.sink.end:
                yield t, PublicationMode.ROLLING
            day += DAY
        per_week = rng.randint(*p.ants_adhoc_per_week)
        yield from self._random_days(p.office_hours, 0, PublicationMode.AD_HOC, rate=per_week, seconds=True)

    # --- what ----------------------------------------------------------------------------------------
    def publish(self, t: datetime, mode: PublicationMode) -> None:
        p, rng, sink, target = self.p, self.rng, self.sink, self.target
        instant = t + timedelta(seconds=p.publish_now_delay_s) if mode is PublicationMode.PUBLISH_NOW else t
        announced_at = announced_instant = moved_at = None
        if target.system is System.RDVPREF and mode in (PublicationMode.WEEKLY_FIXED, PublicationMode.RANDOM_IN_WEEK):
            announced_at = self._office_click(instant - timedelta(days=rng.uniform(*p.announce_days)))
            announced_at += timedelta(seconds=rng.uniform(0, p.notice_lag_s))
            if rng.random() < p.moved_share and (move := self._move(announced_at, instant)):
                announced_instant, instant, moved_at = instant, *move
        visible = instant + timedelta(seconds=rng.uniform(0, self.lag)) if self.lag else instant
        day = local_date(instant)
        if mode is PublicationMode.ROLLING:
            opened = day + timedelta(days=self.horizon)
            days, week_of, size = [opened], monday_of(opened), p.ants_day_size.sample(rng)
        else:
            lead = p.lead_days.sample(rng)
            week_of = monday_of(day + timedelta(days=lead + 3))  # the Monday nearest the target date
            if week_of <= day:
                week_of = monday_of(day) + WEEK
            size = (p.ants_adhoc_size if mode is PublicationMode.AD_HOC else p.batch_size).sample(rng)
            days = [week_of + timedelta(days=i) for i in range(5)]
        spacing = rng.choice(p.slot_spacing_min)
        starts = slot_grid(
            rng, days, max(1, round(size)), windows=p.slot_windows, spacing_min=spacing, max_counters=p.max_counters
        )
        pub_id = sink.pub_id()
        count = self._batch(starts, visible, pub_id, [pl.id for pl in target.plannings])
        sink.publications.append(
            Publication(
                pub_id,
                target.id,
                instant,
                visible,
                week_of,
                announced_at,
                count,
                mode.value,
                announced_instant,
                moved_at,
            )
        )
        if self.cls == "hot" and rng.random() < p.overloaded_share_hot and instant >= sink.start - timedelta(hours=1):
            end = instant + timedelta(seconds=p.overloaded_s.sample(rng))
            on_host = self.legacy  # a legacy host serves every form; the national sites overload per agenda (A)
            sink.episodes.append(
                Episode(
                    EpisodeKind.OVERLOADED,
                    instant,
                    end,
                    target.host if on_host else None,
                    None if on_host else target.id,
                )
            )

    def _batch(self, starts: list[datetime], visible: datetime, pub_id: int, plannings: list[str]) -> int:
        """Add a batch's slots (inlined `Sink.slot`: this loop makes most of a world). Returns its size."""
        rng, sink, life = self.rng, self.sink, self.life
        one = rng.choice(plannings) if plannings and rng.random() < self.p.single_planning_share else None
        cutoff = sink.cutoff
        # A slot whose booking closes before the run starts can neither show nor come back: skip it.
        first = max(visible, sink.start) + cutoff
        lives = life.draw(rng, len(starts), sink.factor(visible)) if life else [None] * len(starts)
        returns = self.p.cancel_share + (self.p.hold_share_legacy if self.legacy else 0.0)
        rnd, tid, out, taken = rng.random, self.target.id, sink.slots, self.taken
        count = 0
        for start, seconds in zip(starts, lives, strict=True):
            planning = one or (rng.choice(plannings) if plannings else None)
            expiry = start - cutoff
            if expiry <= visible:
                continue
            count += 1
            if start <= first:
                continue
            close = expiry if seconds is None else visible + timedelta(seconds=seconds)
            reason = CloseReason.TAKEN
            if close >= expiry:
                close, reason = expiry, CloseReason.EXPIRED
            slot = SimSlot(sink.next_slot, tid, start, visible, close, planning, SlotOrigin.BATCH, pub_id, reason)
            sink.next_slot += 1
            out.append(slot)
            if reason is CloseReason.TAKEN:
                u = rnd()
                if u < returns:
                    self.booked(slot, 0, u)
                else:
                    taken.append(slot)
        return count

    def _office_click(self, t: datetime) -> datetime:
        """An agent's click on the working day of `t` (Friday for a weekend), at a random office time."""
        day = local_date(t)
        day -= timedelta(days=max(0, day.weekday() - 4))
        return local(day, pick_minute(self.rng, self.p.office_hours) + self.rng.random() / 60)

    def _move(self, announced_at: datetime, instant: datetime) -> tuple[datetime, datetime] | None:
        """A re-stamp between the notice and the instant (§6), by an agent in office hours: the batch is
        published now, or moved to another working day. Returns (new instant, notice refresh) or None
        when no working moment fits in between."""
        rng, p = self.rng, self.p
        click = self._office_click(announced_at + (instant - announced_at) * rng.random())
        if not announced_at < click < instant:
            return None
        new = click + timedelta(seconds=p.publish_now_delay_s)
        if rng.random() < 0.5:
            step = rng.choice((-2, -1, 1, 2))
            day = local_date(instant) + timedelta(days=step)
            while day.weekday() >= 5:
                day += timedelta(days=1 if step > 0 else -1)
            moved = local(day, local_minutes(instant))
            if moved > click + timedelta(minutes=10):
                new = moved
        return new, click + timedelta(seconds=rng.uniform(0, p.notice_lag_s))

    # --- bookings coming back ------------------------------------------------------------------------
    def booked(self, slot: SimSlot, depth: int, u: float | None = None) -> None:
        """Decide whether this booking comes back (hold return, cancellation, swap) or stays taken.

        `u` is the uniform draw deciding it, when the caller already made it."""
        if slot.close_reason is not CloseReason.TAKEN or slot.taken_at is None:
            return
        p, rng = self.p, self.rng
        u = rng.random() if u is None else u
        hold = p.hold_share_legacy if self.legacy else 0.0
        if depth >= p.max_return_depth or u >= hold + p.cancel_share:
            self.taken.append(slot)
            return
        expiry = slot.start - self.sink.cutoff
        if u < hold:
            at, origin = slot.taken_at + self.hold, SlotOrigin.HOLD_RETURN
        else:
            at = self._cancel_time(slot.taken_at, expiry)
            swap = self.cls == "hot" and rng.random() < p.swap_share_hot
            origin = SlotOrigin.SWAP if swap else SlotOrigin.CANCELLATION
        self.returned.add(slot.id)
        self.come_back(slot, at, origin, depth)

    def come_back(self, slot: SimSlot, at: datetime, origin: SlotOrigin, depth: int) -> None:
        if at >= self.sink.end:
            return
        visible = at + timedelta(seconds=self.rng.uniform(0, self.lag)) if self.lag else at
        close = (
            visible + timedelta(seconds=self.rng.uniform(*self.p.swap_visible_s)) if origin is SlotOrigin.SWAP else None
        )
        new = self.sink.slot(
            self.target.id, slot.start, visible, self.life, self.rng,
            factor=self.sink.factor(visible), planning=slot.planning_id, origin=origin, returns=slot.id, close=close,
        )  # fmt: skip
        if new is not None and origin is not SlotOrigin.SWAP:
            self.booked(new, depth + 1)

    def _cancel_time(self, taken: datetime, expiry: datetime) -> datetime:
        """Uniform between booking and appointment, then moved to daytime with `cancel_day_share`."""
        p, rng = self.p, self.rng
        at = taken + (expiry - taken) * rng.random()
        lo, hi = p.cancel_day
        minute = rng.uniform(lo, hi) if rng.random() < p.cancel_day_share else rng.uniform(hi, lo + 1440)
        moved = local(local_date(at), minute)
        return moved if taken < moved < expiry else at

    def purges(self) -> None:
        """Purge bursts (§8): on 1 weekday in 20, 1–10 bookings come back at once between 08:00 and 10:00."""
        p, rng = self.p, self.rng
        day, last = local_date(self.gen_start), local_date(self.sink.end)
        margin = self.sink.cutoff + timedelta(hours=1)
        while day <= last:
            if day.weekday() < 5 and rng.random() < p.purge_day_prob:
                at = local(day, rng.uniform(*p.purge_window))
                pool = [
                    s
                    for s in self.taken
                    if s.id not in self.returned and s.taken_at and s.taken_at < at < s.start - margin
                ]
                for slot in rng.sample(pool, min(len(pool), rng.randint(*p.purge_size))):
                    self.returned.add(slot.id)
                    self.come_back(slot, at + timedelta(seconds=rng.uniform(0, 60)), SlotOrigin.CANCELLATION, 1)
            day += DAY
