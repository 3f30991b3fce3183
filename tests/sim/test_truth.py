# SPDX-License-Identifier: AGPL-3.0-or-later
"""The ground-truth log: every publication, opening and closing, sorted, and what happened at runtime."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from creneau.sim.generator import generate_realistic_france
from creneau.sim.model import World
from creneau.sim.scenario import load_scenario
from creneau.sim.truth import TruthLog, iter_truth, read_truth, write_truth

START = datetime(2026, 5, 4, 6, 0, tzinfo=UTC)
DEMO = Path(__file__).resolve().parents[2] / "src" / "creneau" / "sim" / "scenarios" / "demo.yaml"


@pytest.fixture
def world() -> World:
    return load_scenario(DEMO, now=START)


def test_write_truth_round_trips_every_event_sorted_by_time(world: World, tmp_path: Path) -> None:
    path = tmp_path / "truth.jsonl"
    n = write_truth(world, path)
    events = read_truth(path)
    assert len(events) == n
    assert events == list(iter_truth(world))
    times = [datetime.fromisoformat(e["t"]) for e in events]
    assert times == sorted(times)
    kinds = Counter(e["event"] for e in events)
    assert kinds["publication"] == len(world.publications)
    assert kinds["slot_open"] == len(world.slots)
    assert kinds["episode"] == len(world.episodes)
    assert all(datetime.fromisoformat(e["t"]) <= world.end for e in events)
    moved = [e for e in events if e["event"] == "publication" and "moved_at" in e]
    assert moved  # the demo's moved announcement keeps its history
    opened = {e["slot"] for e in events if e["event"] == "slot_open"}
    assert {e["slot"] for e in events if e["event"] == "slot_close"} <= opened


def test_truth_slot_events_match_the_world_slots(world: World) -> None:
    events = list(iter_truth(world))
    for slot in world.slots:
        (opened,) = [e for e in events if e["event"] == "slot_open" and e["slot"] == slot.id]
        assert opened["t"] == slot.visible_from.isoformat()
        assert opened["origin"] == slot.origin.value
        closes = [e for e in events if e["event"] == "slot_close" and e["slot"] == slot.id]
        if slot.taken_at is not None and slot.taken_at <= world.end:
            assert [(c["t"], c["reason"]) for c in closes] == [(slot.taken_at.isoformat(), slot.close_reason.value)]
        else:
            assert closes == []


def test_truth_log_records_a_runtime_booking_and_moves_the_slot_close(world: World, tmp_path: Path) -> None:
    log = TruthLog(world, tmp_path / "truth.jsonl")
    pub = next(p for p in world.publications if p.target_id == "pp-vpf")
    when = pub.visible_at + timedelta(seconds=1)
    (slot, *_) = world.visible_slots("pp-vpf", when)
    log.take(slot.id, when, by="e2e test")
    log.served(at=when, target_id="pp-vpf", slot_ids=[slot.id], page="/booking/create/989/4")  # not recorded
    log.write()
    events = read_truth(tmp_path / "truth.jsonl")
    closes = [e for e in events if e["event"] == "slot_close" and e["slot"] == slot.id]
    assert [c["t"] for c in closes] == [when.isoformat()]
    booked = [e for e in events if e["event"] == "slot_booked"]
    assert booked == [
        {
            "t": when.isoformat(),
            "event": "slot_booked",
            "slot": slot.id,
            "target": "pp-vpf",
            "by": "e2e test",
            "runtime": True,
        }
    ]
    assert not any(e["event"] == "served" for e in events)
    assert slot not in world.visible_slots("pp-vpf", when)


def test_truth_log_records_served_pages_when_asked(world: World, tmp_path: Path) -> None:
    log = TruthLog(world, tmp_path / "truth.jsonl", record_served=True)
    log.served(at=START, target_id="pp-vpf", slot_ids=[], page="/booking/create/989/1")
    log.write()
    assert [e["page"] for e in read_truth(tmp_path / "truth.jsonl") if e["event"] == "served"] == [
        "/booking/create/989/1"
    ]


def test_truth_of_a_generated_world_leaves_out_events_after_the_end(tmp_path: Path) -> None:
    world = generate_realistic_france(targets=30, start=START, days=3, seed=1)
    events = list(iter_truth(world))
    assert events
    assert max(datetime.fromisoformat(e["t"]) for e in events) <= world.end
    assert write_truth(world, tmp_path / "t.jsonl") == len(events)
