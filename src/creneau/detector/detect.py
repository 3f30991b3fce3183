# SPDX-License-Identifier: AGPL-3.0-or-later
"""Observations in, recorded transitions out: the only place that decides an opening began or ended.

Rules (docs/scheduling.md, "Detector"):
- An opening starts only on positive evidence: an observation with outcome `SLOTS_AVAILABLE` and at least
  one slot. It ends when a conclusive observation shows none of the slots.
- Inconclusive outcomes (errors, captcha walls, unknown layouts, and a `SLOTS_AVAILABLE` without any slot)
  neither open nor close anything: the state is unchanged apart from counters.
- A slot is *new* when its key was not visible at the previous conclusive check and was not seen in the last
  `grace_s` seconds. Only new slots are alertable, so a slot that flickers (vanishes and comes back within
  the grace) never alerts twice, whether the opening stayed open meanwhile or was closed and reopened.
- Observations older than the last conclusive one are ignored (counted in `stale_ignored`).

Alerts come from transitions whose `new_slots` is not empty (`Transition.alerts`), never from a poll.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum

from creneau.detector.state import DetectorState, SlotLife
from creneau.types import Observation, Outcome, Slot

DEFAULT_GRACE_S = 300.0


class TransitionKind(StrEnum):
    OPENED = "opened"
    NEW_SLOTS = "new_slots"
    CLOSED = "closed"


@dataclass(frozen=True, slots=True)
class Phase:
    """A summary of the detector state on either side of a transition."""

    is_open: bool
    opening: int
    visible: int

    @classmethod
    def of(cls, state: DetectorState) -> Phase:
        return cls(state.is_open, state.opening, len(state.visible))

    def __str__(self) -> str:
        return f"open #{self.opening} ({self.visible} slots)" if self.is_open else "closed"


@dataclass(frozen=True, slots=True)
class Transition:
    """One recorded change of a target's opening state, immutable.

    `opening` is the target's opening sequence number; `at` the observation time; `since` the previous
    conclusive check (an opening began somewhere in (`since`, `at`]). `slots` are all slots visible now,
    `new_slots` the ones nobody was alerted about yet (empty for a flicker reopen and for closes).
    `lifetimes` (on close) lists every slot of the opening with its first/last sighting and gone time.
    """

    kind: TransitionKind
    target_id: str
    opening: int
    at: datetime
    reason: str
    old: Phase
    new: Phase
    slots: tuple[Slot, ...] = ()
    new_slots: tuple[Slot, ...] = ()
    since: datetime | None = None
    opened_at: datetime | None = None
    lifetimes: tuple[SlotLife, ...] = ()

    @property
    def alerts(self) -> bool:
        """True when this transition must reach the watchers (it carries slots nobody has heard of)."""
        return bool(self.new_slots)

    @property
    def idempotency_key(self) -> str:
        """Stable identity of the transition for the outbox: target, opening, kind and instant."""
        return f"{self.target_id}:{self.opening}:{self.kind.value}:{self.at.isoformat()}"


@dataclass(frozen=True, slots=True)
class Detection:
    """The result of feeding one observation: the state to persist and the transitions to record."""

    state: DetectorState
    transitions: tuple[Transition, ...] = ()


def _is_positive(obs: Observation) -> bool:
    return obs.outcome is Outcome.SLOTS_AVAILABLE and bool(obs.slots)


def detect(state: DetectorState, obs: Observation, *, grace_s: float = DEFAULT_GRACE_S) -> Detection:
    """Apply one observation to a target's detector state. Pure: `state` is not modified."""
    if state.last_conclusive_at is not None and obs.checked_at < state.last_conclusive_at:
        return Detection(replace(state, stale_ignored=state.stale_ignored + 1))
    if not obs.outcome.is_conclusive or (obs.outcome is Outcome.SLOTS_AVAILABLE and not obs.slots):
        why = obs.outcome.value if obs.slots or obs.outcome is not Outcome.SLOTS_AVAILABLE else "slots_without_slot"
        return Detection(
            replace(
                state,
                inconclusive_checks=state.inconclusive_checks + 1,
                inconclusive_streak=state.inconclusive_streak + 1,
                last_inconclusive=why,
            )
        )
    if obs.outcome is Outcome.NO_SLOTS and not state.is_open and not state.recent:
        return Detection(_quiet(state, obs.checked_at))
    return _conclusive(state, obs, timedelta(seconds=grace_s))


def _quiet(state: DetectorState, now: datetime) -> DetectorState:
    """Fast path for the common case: nothing open, nothing recent, and the page positively shows no slot."""
    return DetectorState(
        opening=state.opening,
        opened_at=state.opened_at,
        visible=state.visible,
        recent=state.recent,
        last_conclusive_at=now,
        last_change_at=state.last_change_at,
        conclusive_checks=state.conclusive_checks + 1,
        inconclusive_checks=state.inconclusive_checks,
        last_inconclusive=state.last_inconclusive,
        stale_ignored=state.stale_ignored,
    )


def _conclusive(state: DetectorState, obs: Observation, grace: timedelta) -> Detection:
    now = obs.checked_at
    shown: frozenset[Slot] = frozenset(obs.slots) if _is_positive(obs) else frozenset()
    if state.is_open and shown == state.shown:
        # The page shows exactly what it showed last time: only the clock moves (the common case of a
        # target whose slots stay up for days, checked many times).
        return Detection(
            replace(state, last_conclusive_at=now, conclusive_checks=state.conclusive_checks + 1, inconclusive_streak=0)
        )
    seen: dict[str, Slot] = {}
    if shown:
        for slot in obs.slots:
            seen.setdefault(slot.key, slot)
    recent = {k: life for k, life in state.recent.items() if now - life.last_seen <= grace}
    visible: dict[str, SlotLife] = {}
    new_slots: list[Slot] = []
    restored: dict[str, SlotLife] = {}
    for key, slot in seen.items():
        if key in state.visible:
            visible[key] = state.visible[key]
        elif key in recent:
            restored[key] = life = recent.pop(key)
            visible[key] = SlotLife(life.slot, life.first_seen, now)
        else:
            visible[key] = SlotLife(slot, now, now)
            new_slots.append(slot)
    # A visible slot was last seen at the previous conclusive check (its record is not rewritten each check).
    previous = state.last_conclusive_at
    vanished = [
        SlotLife(life.slot, life.first_seen, previous or life.last_seen, now)
        for key, life in state.visible.items()
        if key not in seen
    ]
    for life in vanished:
        recent[life.key] = life
    gone = tuple(life for life in state.gone if restored.get(life.key) != life) + tuple(vanished)
    flickered = len(restored)
    base = replace(
        state,
        visible=visible,
        shown=shown,
        recent=recent,
        last_conclusive_at=now,
        conclusive_checks=state.conclusive_checks + 1,
        inconclusive_streak=0,
    )
    old = Phase.of(state)
    slots = tuple(life.slot for life in visible.values())
    new_t = tuple(new_slots)

    if not state.is_open and visible:
        new_state = replace(base, opening=state.opening + 1, is_open=True, opened_at=now, gone=(), last_change_at=now)
        if new_t:
            reason = f"{len(new_t)} slot(s) appeared"
            if flickered:
                reason += f", {flickered} seen again within the {grace.total_seconds():.0f} s grace"
        else:
            reason = f"flicker: {flickered} slot(s) seen again within the {grace.total_seconds():.0f} s grace; no alert"
        opened = Transition(
            TransitionKind.OPENED,
            obs.target_id,
            new_state.opening,
            now,
            reason,
            old,
            Phase.of(new_state),
            slots,
            new_t,
            since=state.last_conclusive_at,
            opened_at=now,
        )
        return Detection(new_state, (opened,))

    if state.is_open and not visible:
        new_state = replace(base, is_open=False, gone=(), last_change_at=now)
        why = "no slot left" if obs.outcome is Outcome.NO_SLOTS else "none of the opening's slots is visible"
        closed = Transition(
            TransitionKind.CLOSED,
            obs.target_id,
            state.opening,
            now,
            why,
            old,
            Phase.of(new_state),
            opened_at=state.opened_at,
            since=state.last_conclusive_at,
            lifetimes=gone,
        )
        return Detection(new_state, (closed,))

    if state.is_open and new_t:
        new_state = replace(base, gone=gone, last_change_at=now)
        added = Transition(
            TransitionKind.NEW_SLOTS,
            obs.target_id,
            state.opening,
            now,
            f"{len(new_t)} new slot(s) during the opening",
            old,
            Phase.of(new_state),
            slots,
            new_t,
            since=state.last_conclusive_at,
            opened_at=state.opened_at,
        )
        return Detection(new_state, (added,))

    return Detection(replace(base, gone=gone if state.is_open else ()))
