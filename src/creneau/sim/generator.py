# SPDX-License-Identifier: AGPL-3.0-or-later
"""The "realistic France" world (slot-dynamics.md §8): hundreds of offices, bursty releases, quiet nights.

`generate_realistic_france` builds a whole `World`; `generate_parts` builds the same pieces for a
scenario's `generate:` section to merge with its scripted targets. Deterministic: every target draws from
its own `Random(f"{seed}:{target id}")`, every host from `Random(f"{seed}:host:{host}")`, so adding
targets does not change the others' dynamics. All laws live in `FranceParams`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from random import Random

from creneau.sim.dynamics import Agenda, Sink
from creneau.sim.france import apportion, heat_of, make_targets
from creneau.sim.laws import local, local_date, poisson
from creneau.sim.model import Episode, EpisodeKind, Publication, RateRules, SimSlot, SimTarget, World
from creneau.sim.params import FranceParams
from creneau.types import System

CLASSES = ("hot", "warm", "cold", "dead", "starved")

__all__ = ["CLASSES", "FranceParams", "Generated", "generate_parts", "generate_realistic_france"]


@dataclass
class Generated:
    """A generated world's pieces, ids continuing from the `first_slot_id` / `first_publication_id` asked."""

    targets: list[SimTarget] = field(default_factory=list)
    slots: list[SimSlot] = field(default_factory=list)
    publications: list[Publication] = field(default_factory=list)
    episodes: list[Episode] = field(default_factory=list)


def generate_realistic_france(
    *,
    targets: int,
    start: datetime,
    days: float,
    seed: int,
    mix: Mapping[str, float] | None = None,
    params: FranceParams | None = None,
) -> World:
    """A world of `targets` booking targets over `days` from `start` (timezone-aware).

    `mix` overrides `params.system_mix` (keys: rdvpref, legacy, ants). Raises ValueError on a naive
    `start`, a negative count or an unknown system.
    """
    p = params or FranceParams()
    end = start + timedelta(days=days)
    parts = generate_parts(targets=targets, start=start, end=end, seed=seed, mix=mix, params=p)
    return World(
        {t.id: t for t in parts.targets},
        parts.slots,
        parts.publications,
        parts.episodes,
        start=start,
        end=end,
        session_lifetime_s=p.session_lifetime_s,
        rules=RateRules(background_5xx_rate=p.background_5xx_rate),
        seed=seed,
    )


def generate_parts(
    *,
    targets: int,
    start: datetime,
    end: datetime,
    seed: int,
    mix: Mapping[str, float] | None = None,
    params: FranceParams | None = None,
    prefix: str = "fr-",
    first_slot_id: int = 1,
    first_publication_id: int = 1,
) -> Generated:
    """The targets, slots, publications and episodes of a realistic-France run over [start, end).

    Slots gone before `start` are dropped (they were only simulated so that the world is in its steady
    state at `start`); publications of that warm-up are kept, for "Dernière mise en ligne" notices.
    """
    if start.tzinfo is None:
        raise ValueError("start must be timezone-aware")
    if targets < 0:
        raise ValueError("targets must be >= 0")
    p = params or FranceParams()
    weights = dict(p.system_mix if mix is None else mix)
    try:
        system_mix = [(System(name), w) for name, w in weights.items()]
    except ValueError as exc:
        raise ValueError(f"unknown system in mix: {sorted(weights)}") from exc
    made = make_targets(Random(f"{seed}:targets"), targets, system_mix, pp_share=p.pp_share_of_legacy, prefix=prefix)
    made = _assign_classes(made, p, Random(f"{seed}:classes"))
    sink = Sink(
        start,
        end,
        cutoff=timedelta(seconds=p.booking_cutoff_s),
        night=p.night,
        night_factor=p.night_factor,
        next_slot=first_slot_id,
        next_pub=first_publication_id,
    )
    day0 = local(local_date(start), 0)
    for target in made:
        mark = len(sink.slots)
        warmup = timedelta(days=p.warmup_days.get(target.office_class, 0.0))
        Agenda(sink, p, target, Random(f"{seed}:{target.id}"), day0 - warmup if warmup else start).run()
        sink.slots[mark:] = [s for s in sink.slots[mark:] if s.taken_at is None or s.taken_at > start]
    sink.episodes.extend(_maintenance(made, p, seed, start, end))
    return Generated(made, sink.slots, sink.publications, sink.episodes)


def _assign_classes(targets: list[SimTarget], p: FranceParams, rng: Random) -> list[SimTarget]:
    """Exact class shares; the hottest offices (PP, Île-de-France, big cities) get `hot` and `warm` first."""
    shares = [p.class_shares.get(c, 0.0) for c in CLASSES]
    counts = dict(zip(CLASSES, apportion(len(targets), shares), strict=True))
    order = sorted(range(len(targets)), key=lambda i: -(heat_of(targets[i]) + rng.random()))
    hot_warm = counts["hot"] + counts["warm"]
    rest = order[hot_warm:]
    rng.shuffle(rest)
    classes = ["hot"] * counts["hot"] + ["warm"] * counts["warm"]
    classes += ["cold"] * counts["cold"] + ["dead"] * counts["dead"] + ["starved"] * counts["starved"]
    out = list(targets)
    for i, cls in zip(order[:hot_warm] + rest, classes, strict=True):
        out[i] = dataclasses.replace(targets[i], office_class=cls)
    return out


def _maintenance(targets: list[SimTarget], p: FranceParams, seed: int, start: datetime, end: datetime) -> list[Episode]:
    """About `maintenance_per_month` windows per host, 30–120 min, starting between 22:00 and 06:00."""
    out: list[Episode] = []
    days = max(1, (end - start).days)
    lo, hi = p.maintenance_window
    for host in sorted({t.host for t in targets}):
        rng = Random(f"{seed}:host:{host}")
        for _ in range(poisson(rng, days / 30 * p.maintenance_per_month)):
            minutes = rng.uniform(*p.maintenance_minutes)
            at = local(local_date(start) + timedelta(days=rng.randrange(days)), rng.uniform(lo, max(lo, hi - minutes)))
            if start <= at < end:
                out.append(Episode(EpisodeKind.MAINTENANCE, at, at + timedelta(minutes=minutes), host=host))
    return out
