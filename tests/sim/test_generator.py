# SPDX-License-Identifier: AGPL-3.0-or-later
"""The realistic-France generator follows slot-dynamics.md §8 on a big sample (within tolerances)."""

from __future__ import annotations

import dataclasses
import re
import statistics
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from random import Random

import pytest

from creneau.sim.dynamics import Sink
from creneau.sim.france import ANTS_HOST, PP_HOST, RDVPREF_HOST
from creneau.sim.generator import CLASSES, FranceParams, generate_realistic_france
from creneau.sim.model import CloseReason, EpisodeKind, Publication, SlotOrigin, World
from creneau.types import PARIS, System

START = datetime(2026, 5, 4, 6, 0, tzinfo=UTC)  # Monday 08:00 in Paris
BATCH_MODES = {"weekly_fixed", "random_in_week", "publish_now"}


@pytest.fixture(scope="module")
def world() -> World:
    return generate_realistic_france(targets=600, start=START, days=35, seed=11)


def _quantile(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


def _local(t: datetime) -> datetime:
    return t.astimezone(PARIS)


def _batches(world: World, system: System | None = None) -> list[Publication]:
    return [
        p
        for p in world.publications
        if p.mode in BATCH_MODES
        and p.instant >= START
        and (system is None or world.targets[p.target_id].system is system)
    ]


def test_office_classes_follow_the_shares_exactly(world: World) -> None:
    counts = Counter(t.office_class for t in world.targets.values())
    shares = FranceParams().class_shares
    assert {c: counts[c] for c in CLASSES} == {c: round(600 * shares[c]) for c in CLASSES}
    assert all(t.office_class == "hot" for t in world.targets.values() if t.host == PP_HOST)


def test_targets_use_plausible_hosts_and_distinct_ids(world: World) -> None:
    routes = {(t.host, t.demarche_id) for t in world.targets.values()}
    assert len(routes) == len(world.targets)
    for t in world.targets.values():
        if t.system is System.RDVPREF:
            assert t.host == RDVPREF_HOST
        elif t.system is System.ANTS:
            assert t.host == ANTS_HOST
            assert re.fullmatch(r"\d{5}", t.zip_code)
            assert 41 < t.latitude < 52
        else:
            assert t.host == PP_HOST or re.fullmatch(r"(www|rdv)\.[a-z-]+\.gouv\.fr", t.host)
            assert t.plannings
    seen_legacy = {"www.essonne.gouv.fr", "www.val-doise.gouv.fr", "www.hauts-de-seine.gouv.fr", "rdv.ain.gouv.fr"}
    assert seen_legacy & {t.host for t in world.targets.values()}


def test_dead_offices_never_publish_and_starved_ones_rarely(world: World) -> None:
    by_target = Counter(p.target_id for p in _batches(world))
    dead = [t.id for t in world.targets.values() if t.office_class == "dead"]
    assert not any(by_target[t] for t in dead)
    assert not any(s.target_id in set(dead) for s in world.slots)
    starved = [t.id for t in world.targets.values() if t.office_class == "starved" and t.system is not System.ANTS]
    assert statistics.mean(by_target[t] for t in starved) <= 1.2  # ≤ 1 batch a month over 35 days


def test_batch_lead_time_and_size_follow_the_lognormal_laws(world: World) -> None:
    batches = _batches(world)
    leads = [(p.week_of - _local(p.instant).date()).days for p in batches]
    assert 11 <= statistics.median(leads) <= 17
    assert 3 <= _quantile(leads, 0.1) <= 10
    assert 22 <= _quantile(leads, 0.9) <= 34
    sizes = [p.size for p in batches]
    assert 22 <= statistics.median(sizes) <= 38
    assert 3 <= _quantile(sizes, 0.1) <= 9
    assert 90 <= _quantile(sizes, 0.9) <= 200


def _daytime_lifetimes(world: World, office_class: str) -> list[float]:
    return [
        (s.taken_at - s.visible_from).total_seconds()
        for s in world.slots
        if s.origin is SlotOrigin.BATCH
        and s.close_reason is CloseReason.TAKEN
        and s.taken_at is not None
        and world.targets[s.target_id].office_class == office_class
        and 8 <= _local(s.visible_from).hour < 20
    ]


def test_slot_lifetimes_follow_the_class_laws(world: World) -> None:
    hot = _daytime_lifetimes(world, "hot")
    assert 2 <= _quantile(hot, 0.1) <= 6
    assert 28 <= statistics.median(hot) <= 55
    assert 240 <= _quantile(hot, 0.9) <= 540
    assert 1000 <= _quantile(hot, 0.99) <= 3000
    warm = _daytime_lifetimes(world, "warm")
    assert 14 * 60 <= statistics.median(warm) <= 28 * 60
    assert 2.5 * 3600 <= _quantile(warm, 0.9) <= 6 * 3600
    cold_law = FranceParams().lifetimes["cold"]
    rng = Random(1)
    cold = [cold_law.sample(rng) for _ in range(20_000)]
    assert 1.7 * 86400 <= statistics.median(cold) <= 2.3 * 86400
    assert _quantile(cold, 0.9) > 7 * 86400
    cold_slots = [
        s for s in world.slots if world.targets[s.target_id].office_class == "cold" and s.origin is SlotOrigin.BATCH
    ]
    expired = sum(s.close_reason is CloseReason.EXPIRED for s in cold_slots) / len(cold_slots)
    assert expired > 0.04  # cold slots do expire unbooked (lifetime p90 10 d vs lead 7–28 d)


def test_night_triples_human_lifetimes() -> None:
    sink = Sink(START, START + timedelta(days=1))
    assert sink.factor(datetime(2026, 5, 5, 3, 0, tzinfo=PARIS)) == 3.0
    assert sink.factor(datetime(2026, 5, 5, 10, 0, tzinfo=PARIS)) == 1.0


def _agenda_modes(world: World, system: System) -> Counter[str]:
    modes = {p.target_id: p.mode for p in world.publications if world.targets[p.target_id].system is system}
    return Counter(modes.values())


def test_publication_modes_follow_the_system_mixes(world: World) -> None:
    rdv = _agenda_modes(world, System.RDVPREF)
    total = sum(rdv.values())
    assert rdv["weekly_fixed"] / total == pytest.approx(0.45, abs=0.12)
    assert rdv["publish_now"] / total == pytest.approx(0.35, abs=0.12)
    assert rdv["random_in_week"] / total == pytest.approx(0.20, abs=0.1)
    legacy = _agenda_modes(world, System.LEGACY)
    assert legacy["weekly_fixed"] / sum(legacy.values()) == pytest.approx(0.40, abs=0.15)


def test_weekly_fixed_agendas_prefer_monday_mornings_and_midnight(world: World) -> None:
    first: dict[str, datetime] = {}
    for p in sorted(world.publications, key=lambda p: p.instant):
        if (
            p.mode == "weekly_fixed"
            and p.announced_instant is None
            and world.targets[p.target_id].system is System.RDVPREF
        ):
            first.setdefault(p.target_id, _local(p.instant))
    n = len(first)
    assert n > 60
    assert sum(t.weekday() == 0 for t in first.values()) / n == pytest.approx(0.40, abs=0.13)
    assert sum(t.hour == 0 and t.minute == 0 for t in first.values()) / n == pytest.approx(0.15, abs=0.09)
    assert sum(480 <= t.hour * 60 + t.minute < 570 for t in first.values()) / n == pytest.approx(0.40, abs=0.13)


def test_publications_stay_out_of_the_night_except_midnight_and_sunday_evening(world: World) -> None:
    for p in world.publications:
        t = _local(p.instant)
        minutes = t.hour * 60 + t.minute
        if minutes == 0 and t.second == 0:
            assert p.mode in ("rolling", "weekly_fixed")
        elif t.weekday() == 6:
            assert p.mode == "weekly_fixed"
            assert minutes >= 20 * 60
        else:
            assert t.weekday() < 5, p
            assert 6 * 60 <= minutes <= 19 * 60 + 30, p


def test_announcements_come_days_ahead_and_some_move(world: World) -> None:
    announced = [p for p in world.publications if p.announced_at is not None]
    assert all(world.targets[p.target_id].system is System.RDVPREF for p in announced)
    assert not any(p.mode == "publish_now" for p in announced)
    for p in announced:
        shown = p.announced_instant or p.instant
        # 1–7 days, a weekend scheduling click moving to the Friday before
        assert timedelta(hours=8) < shown - p.announced_at < timedelta(days=9, minutes=10)
    moved = sum(p.announced_instant is not None for p in announced) / len(announced)
    assert 0.015 <= moved <= 0.09
    for p in world.publications:
        lag = (p.visible_at - p.instant).total_seconds()
        assert 0 <= lag <= (60 if world.targets[p.target_id].system is System.RDVPREF else 0)


def test_ants_rolling_horizon_opens_one_day_at_midnight(world: World) -> None:
    rolling = [p for p in world.publications if p.mode == "rolling"]
    assert rolling
    by_pub: dict[int, set[object]] = defaultdict(set)
    for s in world.slots:
        if s.publication_id is not None:
            by_pub[s.publication_id].add(_local(s.start).date())
    for p in rolling:
        days = by_pub.get(p.id, set())
        assert len(days) <= 1
        for day in days:
            assert 30 <= (day - _local(p.instant).date()).days <= 90


def test_bookings_come_back_as_cancellations_swaps_and_hold_returns(world: World) -> None:
    returns = [s for s in world.slots if s.returns_slot is not None]
    taken = sum(s.close_reason is CloseReason.TAKEN and s.origin is SlotOrigin.BATCH for s in world.slots)
    cancels = [s for s in returns if s.origin in (SlotOrigin.CANCELLATION, SlotOrigin.SWAP)]
    assert 0.03 <= len(cancels) / taken <= 0.12
    daytime = sum(8 <= _local(s.visible_from).hour < 20 for s in cancels) / len(cancels)
    assert 0.6 <= daytime <= 0.9
    swaps = [s for s in returns if s.origin is SlotOrigin.SWAP]
    assert swaps
    assert all(world.targets[s.target_id].office_class == "hot" for s in swaps)
    assert all(s.taken_at is not None and s.taken_at - s.visible_from < timedelta(seconds=5) for s in swaps)
    hot_returns = [s for s in cancels if world.targets[s.target_id].office_class == "hot"]
    assert 0.03 <= len(swaps) / len(hot_returns) <= 0.25
    holds = [s for s in returns if s.origin is SlotOrigin.HOLD_RETURN]
    assert holds
    by_id = {s.id: s for s in world.slots}
    for s in holds:
        assert world.targets[s.target_id].system is System.LEGACY
        booked = by_id.get(s.returns_slot)
        if booked is not None:
            assert s.visible_from - booked.taken_at in (timedelta(minutes=5), timedelta(minutes=60))


def test_error_episodes_follow_maintenance_and_overload_rules(world: World) -> None:
    maintenance = [e for e in world.episodes if e.kind is EpisodeKind.MAINTENANCE]
    assert maintenance
    for e in maintenance:
        assert e.host is not None
        assert timedelta(minutes=30) <= e.end - e.start <= timedelta(minutes=120)
        assert _local(e.start).hour >= 22 or _local(e.start).hour < 6
    overloaded = [e for e in world.episodes if e.kind is EpisodeKind.OVERLOADED]
    hot_pubs = [
        p for p in world.publications if world.targets[p.target_id].office_class == "hot" and p.instant >= START
    ]
    assert 0.2 <= len(overloaded) / len(hot_pubs) <= 0.4
    assert 60 <= statistics.median((e.end - e.start).total_seconds() for e in overloaded) <= 200
    assert world.rules.background_5xx_rate == pytest.approx(0.02)


def test_per_check_availability_matches_the_class_targets(world: World) -> None:
    rng = Random(3)
    seen: dict[str, list[bool]] = defaultdict(list)
    for tid, target in world.targets.items():
        for _ in range(60):
            t = START + timedelta(seconds=rng.uniform(0, 35 * 86400))
            seen[target.office_class].append(bool(world.visible_slots(tid, t)))
    share = {c: sum(v) / len(v) for c, v in seen.items()}
    assert share["hot"] <= 0.03
    assert 0.15 <= share["warm"] <= 0.40
    assert share["cold"] >= 0.75
    assert share["dead"] == 0


def test_holidays_cut_batches_to_a_third() -> None:
    def batches(start: datetime) -> int:
        world = generate_realistic_france(targets=200, start=start, days=21, seed=4)
        return sum(p.mode in BATCH_MODES and p.instant >= start for p in world.publications)

    assert 0.2 <= batches(datetime(2026, 8, 3, 6, tzinfo=UTC)) / batches(START) <= 0.45


def test_generator_is_deterministic_for_a_seed() -> None:
    a = generate_realistic_france(targets=40, start=START, days=7, seed=9)
    b = generate_realistic_france(targets=40, start=START, days=7, seed=9)
    c = generate_realistic_france(targets=40, start=START, days=7, seed=10)
    assert a.targets == b.targets
    assert a.slots == b.slots
    assert a.publications == b.publications
    assert a.episodes == b.episodes
    assert a.slots != c.slots


def test_params_override_changes_the_world() -> None:
    quiet = dataclasses.replace(FranceParams(), cancel_share=0.0, purge_day_prob=0.0, hold_share_legacy=0.0)
    world = generate_realistic_france(targets=60, start=START, days=7, seed=2, params=quiet)
    assert not any(s.returns_slot is not None for s in world.slots)


def test_generator_rejects_a_naive_start_and_an_unknown_system() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        generate_realistic_france(targets=1, start=datetime(2026, 5, 4), days=1, seed=1)
    with pytest.raises(ValueError, match="unknown system"):
        generate_realistic_france(targets=1, start=START, days=1, seed=1, mix={"doctolib": 1.0})
