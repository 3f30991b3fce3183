# SPDX-License-Identifier: AGPL-3.0-or-later
"""The ground truth of a world as JSON lines, one event per line, sorted by time (`t`).

Events (times ISO 8601 UTC; events after the world's end are left out, events before its start
describe the state the run starts in):
- `publication`: `publication`, `target`, `instant`, `visible_at`, `announced_at`, `week_of`, `size`,
  `mode`, and for a moved announcement `announced_instant` and `moved_at`; `t` = `instant`.
- `slot_open`: `slot`, `target`, `start`, `planning`, `origin`, `publication`, `returns_slot`; `t` = when
  it became visible.
- `slot_close`: `slot`, `target`, `reason` (`taken` | `expired`); `t` = when it stopped being visible.
- `episode`: `kind`, `host`, `target`, `end`, `retry_after`, `delay_s`; `t` = its start.
- runtime events the server adds through `TruthLog.record` (e.g. `slot_booked` when a test books a
  slot out), with `"runtime": true`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from creneau.sim.model import World

_ORDER = {"publication": 0, "episode": 1, "slot_close": 2, "slot_open": 3}


def _iso(t: datetime | None) -> str | None:
    return None if t is None else t.isoformat()


def iter_truth(world: World, extra: Iterable[tuple[datetime, dict[str, Any]]] = ()) -> Iterator[dict[str, Any]]:
    """The world's events in time order (ties: publication, episode, close, open, runtime; then id)."""
    end = world.end
    events: list[tuple[datetime, int, int, dict[str, Any]]] = []
    for pub in world.publications:
        event: dict[str, Any] = {
            "event": "publication",
            "publication": pub.id,
            "target": pub.target_id,
            "instant": _iso(pub.instant),
            "visible_at": _iso(pub.visible_at),
            "announced_at": _iso(pub.announced_at),
            "week_of": pub.week_of.isoformat(),
            "size": pub.size,
            "mode": pub.mode,
        }
        if pub.announced_instant is not None:
            event |= {"announced_instant": _iso(pub.announced_instant), "moved_at": _iso(pub.moved_at)}
        events.append((pub.instant, 0, pub.id, event))
    for i, ep in enumerate(world.episodes):
        event = {
            "event": "episode",
            "kind": ep.kind.value,
            "host": ep.host,
            "target": ep.target_id,
            "end": _iso(ep.end),
            "retry_after": ep.retry_after_s,
            "delay_s": ep.delay_s,
        }
        events.append((ep.start, 1, i, event))
    for slot in world.slots:
        if slot.taken_at is not None and slot.taken_at <= slot.visible_from:
            continue  # never visible
        events.append(
            (
                slot.visible_from,
                3,
                slot.id,
                {
                    "event": "slot_open",
                    "slot": slot.id,
                    "target": slot.target_id,
                    "start": _iso(slot.start),
                    "planning": slot.planning_id,
                    "origin": slot.origin.value,
                    "publication": slot.publication_id,
                    "returns_slot": slot.returns_slot,
                },
            )
        )
        if slot.taken_at is not None:
            close = {
                "event": "slot_close",
                "slot": slot.id,
                "target": slot.target_id,
                "reason": slot.close_reason.value,
            }
            events.append((slot.taken_at, 2, slot.id, close))
    events.extend((t, 4, i, {**e, "runtime": True}) for i, (t, e) in enumerate(extra))
    events.sort(key=lambda e: (e[0], e[1], e[2]))
    for t, _, _, event in events:
        if end is not None and t > end:
            break
        yield {"t": t.isoformat(), **event}


def write_truth(world: World, path: str | Path, extra: Iterable[tuple[datetime, dict[str, Any]]] = ()) -> int:
    """Write the truth file atomically (temporary file + rename); returns the number of events."""
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    n = 0
    with tmp.open("w", encoding="utf-8") as out:
        for event in iter_truth(world, extra):
            out.write(json.dumps(event, ensure_ascii=False, separators=(",", ":")) + "\n")
            n += 1
    os.replace(tmp, path)
    return n


def read_truth(path: str | Path) -> list[dict[str, Any]]:
    with Path(path).open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


class TruthLog:
    """The truth of a running simulator: the world's events plus what happened at runtime.

    The server calls `take` when a client books a slot out (the world changes, so the slot's close moves
    to that instant) and `record` for any other runtime fact; `write` rewrites the whole file, sorted.
    It also is the server's `TruthSink`: with `record_served`, every page served becomes a `served` event
    (off by default: one event per request). Not thread-safe; the server runs on one event loop.
    """

    def __init__(self, world: World, path: str | Path, *, record_served: bool = False) -> None:
        self.world = world
        self.path = Path(path)
        self.record_served = record_served
        self.runtime: list[tuple[datetime, dict[str, Any]]] = []

    def record(self, event: str, t: datetime, **fields: Any) -> None:
        """Note a runtime event (JSON-serialisable fields)."""
        self.runtime.append((t, {"event": event, **fields}))

    def served(self, *, at: datetime, target_id: str, slot_ids: Sequence[int], page: str) -> None:
        if self.record_served:
            self.record("served", at, target=target_id, slots=list(slot_ids), page=page)

    def take(self, slot_id: int, when: datetime, *, by: str = "client") -> None:
        """Book a slot out of the world at `when` and note it. Raises KeyError for an unknown slot."""
        slot = self.world.slot(slot_id)
        self.world.take(slot_id, when)
        self.record("slot_booked", when, slot=slot_id, target=slot.target_id, by=by)

    def write(self) -> int:
        return write_truth(self.world, self.path, self.runtime)
