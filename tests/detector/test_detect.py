# SPDX-License-Identifier: AGPL-3.0-or-later
from __future__ import annotations

from collections.abc import Iterable

import pytest

from creneau.detector import DetectorState, Transition, TransitionKind, detect
from creneau.types import Observation, Outcome

from .builders import obs, seen, slot


def run(observations: Iterable[Observation], grace_s: float = 300.0) -> tuple[DetectorState, list[Transition]]:
    state = DetectorState()
    out: list[Transition] = []
    for o in observations:
        result = detect(state, o, grace_s=grace_s)
        state = result.state
        out.extend(result.transitions)
    return state, out


def kinds(transitions: list[Transition]) -> list[str]:
    return [t.kind.value for t in transitions]


def test_detect_opens_with_new_slots_when_slots_appear() -> None:
    state, ts = run([seen(0), seen(180, 1, 2)])
    assert kinds(ts) == ["opened"]
    assert ts[0].alerts
    assert [s.key for s in ts[0].new_slots] == [slot(1).key, slot(2).key]
    assert ts[0].since is not None
    assert ts[0].old.is_open is False
    assert ts[0].new.is_open is True
    assert state.is_open
    assert state.opening == 1


def test_detect_emits_new_slots_when_more_slots_appear_during_an_opening() -> None:
    _, ts = run([seen(0, 1), seen(60, 1, 2), seen(120, 1, 2)])
    assert kinds(ts) == ["opened", "new_slots"]
    assert [s.key for s in ts[1].new_slots] == [slot(2).key]
    assert ts[1].opening == ts[0].opening


def test_detect_closes_with_lifetimes_when_a_conclusive_check_shows_none() -> None:
    _, ts = run([seen(0, 1, 2), seen(60, 2), seen(120)])
    assert kinds(ts) == ["opened", "closed"]
    lives = {life.key: life for life in ts[1].lifetimes}
    assert lives[slot(1).key].seen_s == 0
    assert lives[slot(1).key].upper_s == 60
    assert lives[slot(2).key].seen_s == 60
    assert lives[slot(2).key].upper_s == 120
    assert not ts[1].alerts


@pytest.mark.parametrize(
    "outcome",
    [o for o in Outcome if not o.is_conclusive],
    ids=lambda o: o.value,
)
def test_detect_keeps_state_when_outcome_is_inconclusive(outcome: Outcome) -> None:
    state, _ = run([seen(0, 1)])
    result = detect(state, obs(60, outcome, [slot(5)]))
    assert result.transitions == ()
    assert result.state.visible == state.visible
    assert result.state.is_open
    assert result.state.inconclusive_checks == 1
    assert result.state.inconclusive_streak == 1


def test_detect_never_opens_when_slots_available_has_no_slot() -> None:
    result = detect(DetectorState(), obs(0, Outcome.SLOTS_AVAILABLE, []))
    assert result.transitions == ()
    assert result.state.last_inconclusive == "slots_without_slot"


def test_detect_does_not_realert_when_slot_flickers_within_grace() -> None:
    _, ts = run([seen(0, 1), seen(60), seen(120, 1)], grace_s=300)
    assert kinds(ts) == ["opened", "closed", "opened"]
    assert not ts[2].alerts
    assert ts[2].reason.startswith("flicker")


def test_detect_realerts_when_slot_returns_after_grace() -> None:
    _, ts = run([seen(0, 1), seen(60), seen(600, 1)], grace_s=300)
    assert kinds(ts) == ["opened", "closed", "opened"]
    assert ts[2].alerts


def test_detect_does_not_realert_when_slot_flickers_inside_an_open_opening() -> None:
    _, ts = run([seen(0, 1, 2), seen(60, 2), seen(120, 1, 2)])
    assert kinds(ts) == ["opened"]


def test_detect_keeps_both_lives_when_a_slot_returns_after_grace_within_an_opening() -> None:
    _, ts = run([seen(0, 1, 2), seen(60, 2), seen(900, 1, 2), seen(960)], grace_s=300)
    assert kinds(ts) == ["opened", "new_slots", "closed"]
    assert sorted(life.key == slot(1).key for life in ts[-1].lifetimes) == [False, True, True]


def test_detect_ignores_observation_when_older_than_last_conclusive() -> None:
    state, _ = run([seen(100, 1)])
    result = detect(state, seen(50))
    assert result.transitions == ()
    assert result.state.is_open
    assert result.state.stale_ignored == 1


def test_detect_counts_duplicate_keys_once_when_page_repeats_a_slot() -> None:
    result = detect(DetectorState(), obs(0, Outcome.SLOTS_AVAILABLE, [slot(1), slot(1)]))
    assert len(result.transitions[0].new_slots) == 1


def test_detect_gives_distinct_idempotency_keys_when_openings_differ() -> None:
    _, ts = run([seen(0, 1), seen(60), seen(1000, 2)])
    assert len({t.idempotency_key for t in ts}) == 3
    assert {t.opening for t in ts if t.kind is TransitionKind.OPENED} == {1, 2}


def test_detector_state_round_trips_through_json_when_open() -> None:
    import json

    state, _ = run([seen(0, 1, 2), seen(60, 2), obs(90, Outcome.BLOCKED)])
    data = json.loads(json.dumps(state.to_dict()))
    again = DetectorState.from_dict(data)
    assert again.to_dict() == data
    assert again.visible.keys() == state.visible.keys()
    assert again.shown == state.shown
    assert again.gone == state.gone


def test_detector_state_refuses_naive_datetimes_when_loading() -> None:
    data = DetectorState(opening=1).to_dict() | {"opened_at": "2026-05-04T08:00:00"}
    with pytest.raises(ValueError, match="naive"):
        DetectorState.from_dict(data)
