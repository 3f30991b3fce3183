# SPDX-License-Identifier: AGPL-3.0-or-later
"""The world's queries: visible slots (against a brute-force filter), notices, episodes, openings."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from creneau.sim.model import (
    CloseReason,
    Episode,
    EpisodeKind,
    Publication,
    SimSlot,
    SimTarget,
    SlotOrigin,
    World,
)
from creneau.types import System

T0 = datetime(2026, 5, 4, 6, 0, tzinfo=UTC)
HOST = "www.rdv-prefecture.interieur.gouv.fr"


def _targets(n: int = 2) -> dict[str, SimTarget]:
    return {f"t{i}": SimTarget(f"t{i}", System.RDVPREF, HOST, 1000 + i) for i in range(n)}


def _at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def _brute(world: World, target_id: str, t: datetime) -> list[SimSlot]:
    found = [s for s in world.slots if s.target_id == target_id and s.visible_at(t)]
    return sorted(found, key=lambda s: (s.start, s.planning_id or "", s.id))


_slot_args = st.tuples(
    st.sampled_from(["t0", "t1"]),
    st.integers(0, 40),  # start, hours after T0 + 1 day
    st.integers(0, 600),  # visible from, seconds
    st.one_of(st.none(), st.integers(0, 600)),  # lifetime, seconds (None: never taken)
    st.sampled_from([None, "a", "b"]),
)


@settings(max_examples=150, deadline=None)
@given(st.lists(_slot_args, max_size=25), st.lists(st.integers(-10, 1300), min_size=1, max_size=15))
def test_visible_slots_equals_brute_force_filter_when_slots_are_random(specs, probes) -> None:
    slots = [
        SimSlot(i, tid, T0 + timedelta(days=1, hours=h), _at(v), None if life is None else _at(v + life), planning)
        for i, (tid, h, v, life, planning) in enumerate(specs)
    ]
    world = World(_targets(), slots)
    for p in probes:
        for tid in ("t0", "t1", "unknown"):
            assert world.visible_slots(tid, _at(p)) == _brute(world, tid, _at(p))


@settings(max_examples=60, deadline=None)
@given(st.lists(_slot_args, min_size=1, max_size=15), st.data())
def test_visible_slots_follows_take_when_a_slot_is_booked_out(specs, data) -> None:
    slots = [
        SimSlot(i, tid, T0 + timedelta(days=1, hours=h), _at(v), None if life is None else _at(v + life), planning)
        for i, (tid, h, v, life, planning) in enumerate(specs)
    ]
    world = World(_targets(), slots)
    world.visible_slots("t0", T0)  # build the timelines first: take must invalidate them
    victim = data.draw(st.integers(0, len(slots) - 1))
    when = _at(data.draw(st.integers(0, 700)))
    world.take(victim, when)
    taken = world.slot(victim)
    assert taken.taken_at is not None
    assert taken.taken_at <= when
    for p in range(-10, 1300, 37):
        for tid in ("t0", "t1"):
            assert world.visible_slots(tid, _at(p)) == _brute(world, tid, _at(p))


def test_visible_slots_sees_slots_appended_to_the_public_list() -> None:
    world = World(_targets())
    assert world.visible_slots("t0", _at(10)) == []
    world.slots.append(SimSlot(1, "t0", _at(86400), _at(0), None))
    assert [s.id for s in world.visible_slots("t0", _at(10))] == [1]
    world.add_slots([SimSlot(2, "t0", _at(86400 * 2), _at(5), _at(20))])
    assert [s.id for s in world.visible_slots("t0", _at(10))] == [1, 2]


def test_take_keeps_an_earlier_end_when_the_slot_was_already_gone() -> None:
    world = World(_targets(), [SimSlot(1, "t0", _at(86400), _at(0), _at(100), close_reason=CloseReason.EXPIRED)])
    world.take(1, _at(200))
    assert world.slot(1).taken_at == _at(100)
    world.take(1, _at(50))
    assert world.slot(1).taken_at == _at(50)
    assert world.slot(1).close_reason is CloseReason.TAKEN
    with pytest.raises(KeyError):
        world.take(99, _at(0))


def test_changes_between_lists_every_change_when_slots_come_and_go() -> None:
    world = World(
        _targets(), [SimSlot(1, "t0", _at(86400), _at(10), _at(30)), SimSlot(2, "t0", _at(86400), _at(20), None)]
    )
    assert world.changes_between("t0", _at(0), _at(100)) == [_at(10), _at(20), _at(30)]
    assert world.changes_between("t0", _at(10), _at(20)) == [_at(20)]
    assert world.next_change("t0", _at(20)) == _at(30)
    assert world.next_change("t0", _at(30)) is None


def _pub(pid: int, instant: float, announced: float | None, **kw: object) -> Publication:
    return Publication(
        pid,
        "t0",
        _at(instant),
        _at(instant + 30),
        date(2026, 5, 18),
        None if announced is None else _at(announced),
        **kw,
    )


def test_next_publication_shows_the_earliest_announced_instant_when_several_are_pending() -> None:
    world = World(_targets(), publications=[_pub(1, 3600, 0), _pub(2, 1800, 100), _pub(3, 900, None)])
    assert world.next_publication("t0", _at(50)).id == 1
    assert world.next_publication("t0", _at(200)).id == 2
    assert world.next_publication("t0", _at(1800)).id == 1
    assert world.next_publication("t0", _at(3600)) is None
    assert world.next_publication("t1", _at(0)) is None


def test_next_publication_shows_the_old_instant_until_a_moved_announcement_is_refreshed() -> None:
    world = World(_targets(), publications=[_pub(1, 1200, 0, announced_instant=_at(3600), moved_at=_at(600))])
    shown = world.next_publication("t0", _at(100))
    assert shown is not None
    assert shown.instant == _at(3600)
    assert shown.id == 1
    assert world.next_publication("t0", _at(700)).instant == _at(1200)
    assert world.publication(1).instant == _at(1200)


def test_last_publication_is_the_latest_instant_passed() -> None:
    world = World(_targets(), publications=[_pub(1, 100, None), _pub(2, 50, None)])
    assert world.last_publication("t0", _at(10)) is None
    assert world.last_publication("t0", _at(60)).id == 2
    assert world.last_publication("t0", _at(100)).id == 1


def test_episode_returns_the_first_listed_when_host_target_and_global_overlap() -> None:
    episodes = [
        Episode(EpisodeKind.SLOW, _at(0), _at(100), host=HOST, delay_s=3),
        Episode(EpisodeKind.MAINTENANCE, _at(0), _at(50)),
        Episode(EpisodeKind.OVERLOADED, _at(0), _at(200), target_id="t0"),
    ]
    world = World(_targets(), episodes=episodes)
    assert world.episode(HOST, "t0", _at(10)).kind is EpisodeKind.SLOW
    assert world.episode("other.gouv.fr", "t1", _at(10)).kind is EpisodeKind.MAINTENANCE
    assert world.episode("other.gouv.fr", "t0", _at(60)).kind is EpisodeKind.OVERLOADED
    assert world.episode("other.gouv.fr", None, _at(60)) is None
    world.episodes.append(Episode(EpisodeKind.TIMEOUT, _at(300), _at(400)))
    assert world.episode(HOST, None, _at(350)).kind is EpisodeKind.TIMEOUT


def test_openings_mark_announced_batches_and_unannounced_returns() -> None:
    slots = [
        SimSlot(1, "t0", _at(86400), _at(100), _at(200), publication_id=1),
        SimSlot(2, "t0", _at(86400), _at(150), _at(300), publication_id=1),
        SimSlot(3, "t0", _at(86400), _at(1000), _at(1003), origin=SlotOrigin.SWAP, returns_slot=1),
        SimSlot(4, "t0", _at(90000), _at(2000), None, publication_id=2),
    ]
    pubs = [_pub(1, 90, 0), _pub(2, 1990, 1995)]  # the second notice came after its instant
    world = World(_targets(), slots, pubs)
    got = [(o.start, o.end, o.announced, o.origin, o.slot_ids) for o in world.openings("t0")]
    assert got == [
        (_at(100), _at(300), True, SlotOrigin.BATCH, (1, 2)),
        (_at(1000), _at(1003), False, SlotOrigin.SWAP, (3,)),
        (_at(2000), None, False, SlotOrigin.BATCH, (4,)),
    ]


def test_publication_counts_as_unannounced_when_its_move_reached_the_notice_too_late() -> None:
    pub = _pub(1, 100, 0, announced_instant=_at(500), moved_at=_at(150))
    assert not pub.truly_announced
    assert _pub(1, 100, 0, announced_instant=_at(500), moved_at=_at(50)).truly_announced
