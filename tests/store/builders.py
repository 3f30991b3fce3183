# SPDX-License-Identifier: AGPL-3.0-or-later
"""Builders for store tests: targets, watchers, slots, observations and real detector transitions."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from creneau.detector import DetectorState, Transition, WatchFilter, detect
from creneau.store import ChannelRecord, Store, SubscriberRecord, WatchRecord
from creneau.types import Observation, Outcome, Slot, System, Target

T0 = datetime(2026, 5, 4, 6, 0, tzinfo=UTC)
HOST = "www.rdv-prefecture.interieur.gouv.fr"


def make_target(name: str = "t1", *, host: str = HOST) -> Target:
    return Target(
        id=name,
        system=System.RDVPREF,
        url=f"https://{host}/rdvpref/reservation/demarche/{1000 + sum(map(ord, name))}/cgu/",
        office_id="pref-75",
        demarche_key="titre-sejour",
        demarche_id=1234,
        guichets={"1": "Guichet 1", "2": "Guichet 2"},
        label=f"Target {name}",
    )


def make_slot(day: int = 7, hour: int = 9, guichet: str = "1") -> Slot:
    return Slot(start=datetime(2026, 5, day, hour, 0, tzinfo=UTC), guichet=guichet, guichet_label=f"Guichet {guichet}")


def make_observation(
    target_id: str, at: datetime, slots: Sequence[Slot] = (), *, outcome: Outcome | None = None, page: bytes = b""
) -> Observation:
    if outcome is None:
        outcome = Outcome.SLOTS_AVAILABLE if slots else Outcome.NO_SLOTS
    return Observation(
        target_id=target_id,
        checked_at=at,
        outcome=outcome,
        evidence="test",
        slots=tuple(slots),
        http_status=200,
        duration_s=0.2,
        url="https://example.gouv.fr/",
        raw_page=page,
        page_digest="",
    )


def opened(
    target_id: str, at: datetime = T0, slots: Sequence[Slot] = (), state: DetectorState | None = None
) -> Transition:
    """A real OPENED transition from the detector (slots default: two slots)."""
    detection = detect(state or DetectorState(), make_observation(target_id, at, slots or (make_slot(7), make_slot(8))))
    (transition,) = detection.transitions
    return transition


@dataclass(frozen=True)
class Watcher:
    subscriber: SubscriberRecord
    channels: tuple[ChannelRecord, ...]
    watch: WatchRecord


async def add_watcher(
    store: Store,
    target_ids: Sequence[str],
    *,
    name: str,
    kinds: Sequence[str] = ("email",),
    filters: WatchFilter | None = None,
    now: datetime = T0,
) -> Watcher:
    subscriber = await store.subscribers.add_subscriber(f"{name}@example.org", now=now)
    channels = tuple(
        [await store.subscribers.add_channel(subscriber.id, kind, f"{kind}:{name}", {}, now=now) for kind in kinds]
    )
    watch = await store.subscribers.add_watch(subscriber.id, target_ids, now=now, filters=filters)
    return Watcher(subscriber, channels, watch)


async def watched_targets(store: Store, count: int, *, now: datetime = T0, prefix: str = "t") -> list[Target]:
    """`count` targets, all watched by one subscriber with one e-mail channel."""
    targets = [make_target(f"{prefix}{i:03d}") for i in range(count)]
    await store.targets.upsert_many(targets, now=now)
    await add_watcher(store, [t.id for t in targets], name=f"watcher-{prefix}", now=now)
    return targets


def later(seconds: float, base: datetime = T0) -> datetime:
    return base + timedelta(seconds=seconds)
