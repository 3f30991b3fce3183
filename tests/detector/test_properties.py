# SPDX-License-Identifier: AGPL-3.0-or-later
"""Invariants of the detector over arbitrary observation sequences."""

from __future__ import annotations

from collections.abc import Sequence

from hypothesis import given, settings
from hypothesis import strategies as st

from creneau.detector import DetectorState, Transition, TransitionKind, detect
from creneau.types import Observation, Outcome

from .builders import obs, slot

ERRORS = [o for o in Outcome if not o.is_conclusive]

# One conclusive check: a gap in seconds since the previous one, and the slot numbers shown (empty: none).
checks = st.lists(
    st.tuples(st.integers(1, 900), st.frozensets(st.integers(0, 6), max_size=4)),
    max_size=30,
)


def build(spec: Sequence[tuple[int, frozenset[int]]]) -> list[Observation]:
    out, at = [], 0
    for gap, numbers in spec:
        at += gap
        out.append(obs(at, Outcome.SLOTS_AVAILABLE, [slot(n) for n in sorted(numbers)]) if numbers else obs(at))
    return out


def run(observations: Sequence[Observation]) -> list[Transition]:
    state, out = DetectorState(), []
    for o in observations:
        result = detect(state, o)
        state = result.state
        out.extend(result.transitions)
    return out


def essence(ts: Sequence[Transition]) -> list[tuple[object, ...]]:
    """What an opening is made of, without counters that errors legitimately change."""
    return [
        (t.kind, t.opening, t.at, t.slots, t.new_slots, t.opened_at, t.lifetimes, t.old, t.new, t.reason) for t in ts
    ]


@settings(max_examples=150, deadline=None)
@given(checks, st.lists(st.tuples(st.integers(0, 40), st.sampled_from(ERRORS), st.integers(0, 3)), max_size=20))
def test_detect_yields_same_openings_when_errors_are_interleaved(
    spec: list[tuple[int, frozenset[int]]], errors: list[tuple[int, Outcome, int]]
) -> None:
    clean = build(spec)
    noisy = list(clean)
    for position, outcome, n in errors:
        at_s = (noisy[position % len(noisy)].checked_at - obs(0).checked_at).total_seconds() if noisy else 0
        # Errors may even claim slots: they must still be ignored.
        noisy.insert(position % (len(noisy) + 1), obs(at_s, outcome, [slot(n)]))
    assert essence(run(noisy)) == essence(run(clean))


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(1, 900), st.sampled_from(list(Outcome)), st.frozensets(st.integers(0, 6))), max_size=30
    )
)
def test_detect_only_opens_when_observation_shows_slots(spec: list[tuple[int, Outcome, frozenset[int]]]) -> None:
    state, at = DetectorState(), 0
    for gap, outcome, numbers in spec:
        at += gap
        o = obs(at, outcome, [slot(n) for n in sorted(numbers)])
        result = detect(state, o)
        for t in result.transitions:
            if t.kind is not TransitionKind.CLOSED:
                assert o.outcome is Outcome.SLOTS_AVAILABLE
                assert set(t.new_slots) <= set(o.slots)
            else:
                assert o.outcome is Outcome.NO_SLOTS or not o.slots
        state = result.state


@settings(max_examples=200, deadline=None)
@given(checks)
def test_detect_keeps_openings_well_formed_when_slots_come_and_go(spec: list[tuple[int, frozenset[int]]]) -> None:
    ts = run(build(spec))
    for t in ts:
        keys = [s.key for s in t.new_slots]
        assert len(keys) == len(set(keys))
        assert set(keys) <= {s.key for s in t.slots}
        assert not t.alerts or t.kind in (TransitionKind.OPENED, TransitionKind.NEW_SLOTS)
    opened = [t for t in ts if t.kind is TransitionKind.OPENED]
    closed = [t for t in ts if t.kind is TransitionKind.CLOSED]
    assert len(opened) - len(closed) in (0, 1)
    assert [t.opening for t in opened] == list(range(1, len(opened) + 1))
    for t in closed:
        for life in t.lifetimes:
            assert life.seen_s >= 0
            assert life.upper_s is not None
            assert life.upper_s > life.seen_s


@settings(max_examples=200, deadline=None)
@given(checks)
def test_detect_never_realerts_when_slot_was_seen_within_grace(spec: list[tuple[int, frozenset[int]]]) -> None:
    observations = build(spec)
    last_seen: dict[str, float] = {}
    state = DetectorState()
    for o in observations:
        result = detect(state, o, grace_s=300)
        at = o.checked_at.timestamp()
        for t in result.transitions:
            for s in t.new_slots:
                assert at - last_seen.get(s.key, float("-inf")) > 300
        for s in o.slots:
            last_seen[s.key] = at
        state = result.state
