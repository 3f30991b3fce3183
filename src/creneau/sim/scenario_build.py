# SPDX-License-Identifier: AGPL-3.0-or-later
"""Expanding a validated scenario into a `World`: references checked, times resolved, copies made.

Randomness (slot times when only a size is given, lifetimes, lags) comes from one `Random` per target
(`f"{seed}:{target id}"`), drawn in file order, so a scenario is reproducible item by item.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import datetime, timedelta
from random import Random
from types import MappingProxyType
from typing import Any, cast, get_type_hints

from pydantic import ConfigDict, TypeAdapter, ValidationError, create_model

from creneau.sim.dynamics import Sink
from creneau.sim.france import ANTS_HOST, RDVPREF_HOST
from creneau.sim.generator import generate_parts
from creneau.sim.laws import DAY, WEEK, Lifetime, local_date, monday_of, slot_grid
from creneau.sim.model import Episode, Planning, Publication, PublicationMode, RateRules, SimTarget, SlotOrigin, World
from creneau.sim.params import FranceParams
from creneau.sim.scenario_schema import (
    AntsSpec,
    CancellationSpec,
    LegacySpec,
    LifetimeRef,
    Locator,
    Path,
    Problem,
    PublicationSpec,
    RdvprefSpec,
    ScenarioError,
    ScenarioSpec,
    TimeRef,
)
from creneau.types import System

_ORIGINS = {"cancellation": SlotOrigin.CANCELLATION, "swap": SlotOrigin.SWAP, "hold_return": SlotOrigin.HOLD_RETURN}
_DEFAULT_LAG = {System.RDVPREF: 60.0, System.LEGACY: 0.0, System.ANTS: 0.0}
_ROUTE_KEY = {System.RDVPREF: "demarche", System.LEGACY: "form", System.ANTS: "meeting_point"}
_PUBLISH_NOW_DELAY = timedelta(seconds=60)


def build_world(spec: ScenarioSpec, loc: Locator, *, now: datetime) -> World:
    """Raises ScenarioError for reference and timing mistakes, ValueError for a naive `now`."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    return _Builder(spec, loc, now).world()


class _Builder:
    def __init__(self, spec: ScenarioSpec, loc: Locator, now: datetime) -> None:
        self.spec, self.loc = spec, loc
        self.problems: list[Problem] = []
        self.start = spec.start.absolute or now
        self.end = self.start + spec.duration
        if spec.duration <= timedelta():
            self.fail(("duration",), "must be > 0")
        self.params = self._params()
        self.rules = self._rules()
        self.base = self._targets()
        self._check_references()
        self._raise()
        self.sink = Sink(self.start, self.end, spec.booking_cutoff, self.params.night, self.params.night_factor)
        self.targets: dict[str, SimTarget] = {}
        self.rngs: dict[str, Random] = {}
        self.base_of: dict[str, str] = {}  # copy id → id in the file

    def fail(self, path: Path, reason: str) -> None:
        problem = self.loc.problem(path, reason)
        if problem not in self.problems:
            self.problems.append(problem)

    def _raise(self) -> None:
        if self.problems:
            raise ScenarioError(self.problems)

    def at(self, ref: TimeRef, shift: timedelta) -> datetime:
        return ref.resolve(self.start) + shift

    # --- world ---------------------------------------------------------------------------------------
    def world(self) -> World:
        spec, sink = self.spec, self.sink
        routes = {(t.host, t.demarche_id): t.id for t in self.base.values()}
        for k in range(spec.scale.copies):
            shift = spec.scale.stagger * k
            copies: dict[str, SimTarget] = {}
            for tid, base in self.base.items():
                target = base
                if k:
                    target = dataclasses.replace(
                        base, id=f"{base.id}.{k}", demarche_id=base.demarche_id + k * spec.scale.id_stride
                    )
                    if routes.setdefault((target.host, target.demarche_id), target.id) != target.id:
                        self.fail(
                            ("scale", "id_stride"),
                            f"copy {target.id} takes the id {target.demarche_id} of another target",
                        )
                copies[tid] = self.targets[target.id] = target
                self.base_of[target.id] = tid
                self.rngs[target.id] = Random(f"{spec.seed}:{target.id}")
            for j, pub in enumerate(spec.publications):
                self._publication(copies[pub.target], pub, shift, ("publications", j))
            for j, cancel in enumerate(spec.cancellations):
                self._cancellations(copies[cancel.target], cancel, shift, ("cancellations", j))
            for j, ep in enumerate(spec.episodes):
                if ep.target is not None or k == 0:
                    self._episode(j, None if ep.target is None else copies[ep.target].id, shift)
            self._raise()
        self._generate()
        return World(
            self.targets,
            sink.slots,
            sink.publications,
            sink.episodes,
            start=self.start,
            end=self.end,
            session_lifetime_s=spec.session_lifetime.total_seconds(),
            captcha_ttl_s=spec.captcha_ttl.total_seconds(),
            rules=self.rules,
            seed=spec.seed,
        )

    def _publication(self, target: SimTarget, pub: PublicationSpec, shift: timedelta, path: Path) -> None:
        rng, sink = self.rngs[target.id], self.sink
        at = self.at(pub.at, shift)
        instant = at + _PUBLISH_NOW_DELAY if pub.mode == "publish_now" else at
        announced_at = instant - pub.announce if pub.announce is not None else None
        announced_instant = moved_at = None
        if pub.moved is not None:
            announced_instant, moved_at = self.at(pub.moved.from_, shift), self.at(pub.moved.at, shift)
            if announced_at is not None and moved_at <= announced_at:
                self.fail((*path, "moved", "at"), "the move must come after the announcement")
        lag = pub.lag if pub.lag is not None else timedelta(seconds=rng.uniform(0, _DEFAULT_LAG[target.system]))
        visible = instant + lag
        if pub.slots is not None:
            starts = sorted(self.at(ref, shift) for ref in pub.slots)
            for i, start in enumerate(starts):
                if start - sink.cutoff <= visible:
                    self.fail(
                        (*path, "slots", i), "slot is too close to the publication to ever be bookable (booking_cutoff)"
                    )
        if pub.week_of is not None:
            week_of = pub.week_of.monday or monday_of(
                local_date(self.start + (pub.week_of.offset or timedelta()) + shift)
            )
        elif pub.slots:
            week_of = monday_of(local_date(starts[0]))
        else:
            week_of = max(monday_of(local_date(instant) + timedelta(days=17)), monday_of(local_date(instant)) + WEEK)
        if pub.slots is None:
            days = [week_of + DAY * i for i in range(5)]
            starts = slot_grid(rng, days, 10 if pub.size is None else pub.size, spacing_min=15)
        plannings = [p.id for p in target.plannings]
        life = self._life(pub.lifetime, target)
        pub_id, count = sink.pub_id(), 0
        for i, start in enumerate(starts):
            planning = pub.planning or (plannings[i % len(plannings)] if plannings else None)
            slot = sink.slot(
                target.id,
                start,
                visible,
                life,
                rng,
                factor=sink.factor(visible),
                planning=planning,
                publication_id=pub_id,
            )
            count += slot is not None
        mode = PublicationMode.PUBLISH_NOW if pub.mode == "publish_now" else PublicationMode.SCHEDULED
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

    def _cancellations(self, target: SimTarget, cancel: CancellationSpec, shift: timedelta, path: Path) -> None:
        rng, sink = self.rngs[target.id], self.sink
        at = self.at(cancel.at, shift)
        visible = at + (cancel.lag or timedelta())
        origin = _ORIGINS[cancel.kind]
        life = self._life(cancel.lifetime, target)
        plannings = [p.id for p in target.plannings]
        for _ in range(cancel.count):
            if cancel.slot is not None:
                start = self.at(cancel.slot, shift)
                if start - sink.cutoff <= visible:
                    self.fail((*path, "slot"), "slot is too close to the cancellation to be bookable (booking_cutoff)")
            else:
                day = local_date(at) + DAY * rng.randint(7, 21)
                day += DAY * max(0, 7 - day.weekday()) if day.weekday() >= 5 else timedelta()
                start = slot_grid(rng, [day], 1, spacing_min=15)[0]
            close = None
            if origin is SlotOrigin.SWAP and cancel.lifetime is None:
                close = visible + timedelta(seconds=rng.uniform(*self.params.swap_visible_s))
            planning = cancel.planning or (rng.choice(plannings) if plannings else None)
            sink.slot(
                target.id,
                start,
                visible,
                life,
                rng,
                factor=sink.factor(visible),
                planning=planning,
                origin=origin,
                close=close,
            )

    def _episode(self, j: int, target_id: str | None, shift: timedelta) -> None:
        ep, path = self.spec.episodes[j], ("episodes", j)
        start = self.at(ep.from_, shift)
        if (ep.to is None) == (ep.duration is None):
            self.fail(path, "give exactly one of `to` and `duration`")
            return
        end = self.at(ep.to, shift) if ep.to is not None else start + (ep.duration or timedelta())
        if end <= start:
            self.fail((*path, "to" if ep.to is not None else "duration"), "the episode must end after it starts")
        retry = None if ep.retry_after is None else round(ep.retry_after.total_seconds())
        self.sink.episodes.append(Episode(ep.kind, start, end, ep.host, target_id, ep.delay.total_seconds(), retry))

    def _life(self, ref: LifetimeRef | None, target: SimTarget) -> Lifetime | None:
        if ref is None:
            ref = self.base_life.get(self.base_of.get(target.id, target.id))
        if ref is not None:
            return ref.law
        return self.params.lifetimes.get(target.office_class) or self.params.lifetimes["cold"]

    def _generate(self) -> None:
        gen = self.spec.generate
        if gen is not None:
            days = timedelta(days=gen.days) if gen.days else self.spec.duration
            parts = generate_parts(
                targets=gen.targets,
                start=self.start,
                end=self.start + days,
                seed=self.spec.seed if gen.seed is None else gen.seed,
                mix=None if gen.mix is None else {str(k): v for k, v in gen.mix.items()},
                params=self.params,
                prefix=gen.prefix,
                first_slot_id=self.sink.next_slot,
                first_publication_id=self.sink.next_pub,
            )
            for target in parts.targets:
                if target.id in self.targets:
                    self.fail(("generate", "prefix"), f"generated id {target.id} is already a target id")
                self.targets[target.id] = target
            self.sink.slots.extend(parts.slots)
            self.sink.publications.extend(parts.publications)
            self.sink.episodes.extend(parts.episodes)
        hosts = {t.host for t in self.targets.values()}
        for j, ep in enumerate(self.spec.episodes):
            if ep.host is not None and ep.host not in hosts:
                self.fail(("episodes", j, "host"), f"no target on host {ep.host!r}")
        self._raise()

    # --- checks ----------------------------------------------------------------------------------------
    def _targets(self) -> dict[str, SimTarget]:
        out: dict[str, SimTarget] = {}
        self.base_life: dict[str, LifetimeRef | None] = {}
        routes: dict[tuple[str, int], str] = {}
        for i, ts in enumerate(self.spec.targets):
            system = System(ts.system)
            host = ts.host or {System.RDVPREF: RDVPREF_HOST, System.ANTS: ANTS_HOST}.get(system)
            if host is None:
                self.fail(
                    ("targets", i), "a legacy target needs `host` (e.g. www.essonne.gouv.fr, pprdv.interieur.gouv.fr)"
                )
                continue
            common: dict[str, Any] = {"name": ts.name, "office_class": ts.office_class}
            if isinstance(ts, RdvprefSpec):
                target = SimTarget(ts.id, system, host, ts.demarche, **common)
            elif isinstance(ts, LegacySpec):
                plannings = [Planning(p.id, p.label or f"Guichet {p.id}") for p in ts.plannings or ()]
                target = SimTarget(
                    ts.id,
                    system,
                    host,
                    ts.form,
                    tuple(plannings or [Planning(f"{ts.form}0", "Guichet unique")]),
                    **common,
                )
            else:
                assert isinstance(ts, AntsSpec)
                target = SimTarget(
                    ts.id,
                    system,
                    host,
                    ts.meeting_point,
                    (),
                    latitude=ts.lat,
                    longitude=ts.lon,
                    zip_code=ts.zip,
                    city=ts.city,
                    **common,
                )
            if ts.id in out:
                self.fail(("targets", i, "id"), f"duplicate target id {ts.id!r}")
            if (other := routes.setdefault((host, target.demarche_id), ts.id)) != ts.id:
                self.fail(
                    ("targets", i, _ROUTE_KEY[system]), f"{target.demarche_id} is already used on {host} by {other!r}"
                )
            out[ts.id] = target
            self.base_life[ts.id] = ts.lifetime
        return out

    def _check_references(self) -> None:
        items: list[tuple[str, int, Any]] = [("publications", j, p) for j, p in enumerate(self.spec.publications)]
        items += [("cancellations", j, c) for j, c in enumerate(self.spec.cancellations)]
        for section, j, item in items:
            target = self.base.get(item.target)
            if target is None:
                self.fail((section, j, "target"), f"unknown target {item.target!r}")
                continue
            ids = [p.id for p in target.plannings]
            if item.planning is not None and target.system is not System.LEGACY:
                self.fail((section, j, "planning"), "only legacy targets have plannings (guichets)")
            elif item.planning is not None and item.planning not in ids:
                self.fail(
                    (section, j, "planning"), f"{item.planning!r} is not a planning of {target.id!r} ({', '.join(ids)})"
                )
            if isinstance(item, PublicationSpec):
                if item.size is not None and item.slots is not None:
                    self.fail((section, j, "slots"), "give either `size` or `slots`, not both")
                if item.mode == "publish_now" and item.announce is not None:
                    self.fail((section, j, "announce"), "publish_now batches are never announced")
                if item.moved is not None and item.announce is None:
                    self.fail((section, j, "moved"), "only an announced batch can be moved")
            elif item.kind == "hold_return" and target.system is not System.LEGACY:
                self.fail((section, j, "kind"), "hold returns only happen on legacy targets")
        for j, ep in enumerate(self.spec.episodes):
            if ep.host is not None and ep.target is not None:
                self.fail(("episodes", j), "give `host` or `target`, not both")
            if ep.target is not None and ep.target not in self.base:
                self.fail(("episodes", j, "target"), f"unknown target {ep.target!r}")

    def _params(self) -> FranceParams:
        gen = self.spec.generate
        if gen is None or not gen.params:
            return FranceParams()
        hints = get_type_hints(FranceParams)
        defaults = FranceParams()
        changes: dict[str, Any] = {}
        for key, value in gen.params.items():
            path: Path = ("generate", "params", key)
            if key not in hints:
                self.fail(path, "unknown key")
                continue
            try:
                changes[key] = TypeAdapter(hints[key]).validate_python(value)
            except ValidationError as exc:
                self.fail(path, "; ".join(str(e["msg"]).removeprefix("Value error, ") for e in exc.errors()))
                continue
            default = getattr(defaults, key)
            if isinstance(default, Mapping):  # a partial mapping (e.g. lifetimes: {hot: …}) keeps the other keys
                changes[key] = MappingProxyType({**default, **changes[key]})
        return dataclasses.replace(defaults, **changes)

    def _rules(self) -> RateRules:
        base = RateRules(background_5xx_rate=self.params.background_5xx_rate) if self.spec.generate else RateRules()
        hints = get_type_hints(RateRules)
        fields = {f.name: (hints[f.name], getattr(base, f.name)) for f in dataclasses.fields(RateRules)}
        model = cast(Any, create_model)("Rules", __config__=ConfigDict(extra="forbid"), **fields)
        try:
            return RateRules(**model.model_validate(self.spec.rules).model_dump())
        except ValidationError as exc:
            for e in exc.errors():
                self.fail(("rules", *e["loc"]), "unknown key" if e["type"] == "extra_forbidden" else str(e["msg"]))
            return base
