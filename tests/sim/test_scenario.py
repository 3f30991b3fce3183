# SPDX-License-Identifier: AGPL-3.0-or-later
"""Scenario files: every key expands as documented, and every mistake names its line."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pydantic import BaseModel

from creneau.sim import scenario_schema
from creneau.sim.model import CloseReason, EpisodeKind, RateRules, SlotOrigin, World
from creneau.sim.scenario import ScenarioError, load_scenario, load_scenario_text, parse_scenario
from creneau.types import PARIS

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "src" / "creneau" / "sim" / "scenarios"
START = datetime(2026, 5, 4, 6, 0, tzinfo=UTC)  # 08:00 in Paris

BASE = """\
seed: 5
start: 2026-05-04T08:00:00+02:00
duration: 2h
targets:
  - id: pal
    system: rdvpref
    demarche: 2246
    class: hot
  - id: ess
    system: legacy
    host: www.essonne.gouv.fr
    form: 23014
    plannings:
      - {id: 23018, label: A}
      - {id: 23198, label: B}
  - id: bdx
    system: ants
    meeting_point: 1213
    lat: 44.8
    lon: -0.58
    zip: "33000"
    city: Bordeaux
publications:
  - target: pal
    at: +2m
    announce: 1h
    size: 5
  - target: ess
    at: +3m
    planning: 23198
    slots: [2026-05-20T09:00, 2026-05-20T09:15]
cancellations:
  - target: ess
    at: +4m
    kind: hold_return
episodes:
  - kind: overloaded
    host: www.essonne.gouv.fr
    from: +7m
    duration: 90s
"""


def _load(text: str, now: datetime = START) -> World:
    return load_scenario_text(text, name="demo.yaml", now=now)


def _error(text: str) -> str:
    with pytest.raises(ScenarioError) as info:
        _load(text)
    return str(info.value)


def _line_of(text: str, needle: str, nth: int = 1) -> int:
    hits = [i + 1 for i, line in enumerate(text.splitlines()) if needle in line]
    return hits[nth - 1]


def test_load_scenario_expands_publications_cancellations_and_episodes_when_file_is_valid() -> None:
    world = _load(BASE)
    assert world.start == START
    assert world.end == START + timedelta(hours=2)
    pal, ess = world.publications
    assert pal.announced_at == pal.instant - timedelta(hours=1)
    assert pal.instant == START + timedelta(minutes=2)
    assert pal.instant <= pal.visible_at <= pal.instant + timedelta(seconds=60)
    assert pal.size == 5
    assert ess.visible_at == ess.instant  # the legacy module has no cache lag
    ess_slots = [s for s in world.slots if s.publication_id == ess.id]
    assert [s.start.astimezone(PARIS).strftime("%d %H:%M") for s in ess_slots] == ["20 09:00", "20 09:15"]
    assert {s.planning_id for s in ess_slots} == {"23198"}
    (hold,) = [s for s in world.slots if s.origin is SlotOrigin.HOLD_RETURN]
    assert hold.visible_from == START + timedelta(minutes=4)
    (episode,) = world.episodes
    assert episode.kind is EpisodeKind.OVERLOADED
    assert episode.end - episode.start == timedelta(seconds=90)
    assert world.target_for("www.essonne.gouv.fr", 23014).id == "ess"
    assert world.targets["bdx"].zip_code == "33000"


def test_load_scenario_gives_the_same_world_when_loaded_twice() -> None:
    a, b = _load(BASE), _load(BASE)
    assert a.slots == b.slots
    assert a.publications == b.publications
    assert a.episodes == b.episodes


def test_load_scenario_shifts_the_whole_world_when_start_is_now() -> None:
    text = BASE.replace("start: 2026-05-04T08:00:00+02:00", "start: now")
    later = START + timedelta(hours=5)
    a, b = _load(text, START), _load(text, later)
    assert [
        (s.visible_from + timedelta(hours=5), s.taken_at and s.taken_at + timedelta(hours=5))
        for s in a.slots
        if s.origin is SlotOrigin.HOLD_RETURN
    ] == [(s.visible_from, s.taken_at) for s in b.slots if s.origin is SlotOrigin.HOLD_RETURN]
    assert [p.instant + timedelta(hours=5) for p in a.publications] == [p.instant for p in b.publications]


def test_publish_now_goes_online_a_minute_after_the_click_and_is_never_announced() -> None:
    text = BASE.replace("    announce: 1h\n    size: 5", "    mode: publish_now\n    size: 5")
    pub = _load(text).publications[0]
    assert pub.instant == START + timedelta(minutes=3)
    assert pub.announced_at is None
    assert pub.mode == "publish_now"


def test_moved_announcement_keeps_the_old_instant_on_the_notice_until_the_move() -> None:
    text = BASE.replace("    announce: 1h\n", "    announce: 1h\n    moved: {from: +30m, at: +1m}\n    lag: 0s\n")
    world = _load(text)
    assert world.next_publication("pal", START).instant == START + timedelta(minutes=30)
    assert world.next_publication("pal", START + timedelta(minutes=1)).instant == START + timedelta(minutes=2)
    assert world.openings("pal")[0].announced


@pytest.mark.parametrize(
    ("lifetime", "expect"),
    [("5m", timedelta(minutes=5)), ("{fixed: 90s}", timedelta(seconds=90)), ("never", None)],
    ids=["duration", "fixed", "never"],
)
def test_publication_lifetime_sets_when_slots_go(lifetime: str, expect: timedelta | None) -> None:
    text = BASE.replace("    size: 5", f"    size: 5\n    lifetime: {lifetime}")
    world = _load(text)
    for slot in (s for s in world.slots if s.publication_id == 1):
        if expect is None:
            assert slot.close_reason is CloseReason.EXPIRED
            assert slot.taken_at == slot.start - timedelta(hours=1)
        else:
            assert slot.taken_at - slot.visible_from == expect


def test_swap_cancellation_is_visible_for_under_five_seconds() -> None:
    text = BASE.replace("kind: hold_return", "kind: swap\n    count: 3")
    swaps = [s for s in _load(text).slots if s.origin is SlotOrigin.SWAP]
    assert len(swaps) == 3
    assert all(timedelta(0) < s.taken_at - s.visible_from < timedelta(seconds=5) for s in swaps)


def test_scale_copies_targets_with_new_ids_and_routes() -> None:
    text = BASE + "scale: {copies: 3, stagger: 10m}\n"
    text = text.replace("    host: www.essonne.gouv.fr\n    from", "    target: pal\n    from")
    world = _load(text)
    assert len(world.targets) == 9
    assert world.target_for("www.rdv-prefecture.interieur.gouv.fr", 2246 + 2 * 100_000).id == "pal.2"
    instants = sorted(p.instant for p in world.publications if p.target_id.startswith("pal"))
    assert instants == [START + timedelta(minutes=2 + 10 * k) for k in range(3)]
    assert sorted(e.target_id for e in world.episodes) == ["pal", "pal.1", "pal.2"]
    assert len({s.id for s in world.slots}) == len(world.slots)


def test_generate_section_merges_the_realistic_generator_with_scripted_targets() -> None:
    params = "{cancel_share: 0.1, lifetimes: {hot: {human: {p50: 60, p90: 600}}}}"
    world = _load(BASE + f"generate: {{targets: 12, days: 3, params: {params}}}\n")
    generated = [t for t in world.targets if t.startswith("fr-")]
    assert len(generated) == 12
    assert len({s.id for s in world.slots}) == len(world.slots)
    assert len({p.id for p in world.publications}) == len(world.publications)
    assert world.rules.background_5xx_rate == pytest.approx(0.02)


def _replace(old: str, new: str) -> str:
    assert old in BASE
    return BASE.replace(old, new, 1)


ERRORS = {
    "bad-instant": (_replace("at: +2m", "at: tomorow"), "at: tomorow", "publications[0].at: not an ISO date-time"),
    "unknown-key": (
        _replace("    class: hot", "    class: hot\n    colour: red"),
        "colour",
        "targets[0].colour: unknown key",
    ),
    "unknown-target": (_replace("  - target: pal", "  - target: nope"), "target: nope", "unknown target 'nope'"),
    "bad-planning": (_replace("planning: 23198", "planning: 999"), "planning: 999", "'999' is not a planning of 'ess'"),
    "missing-key": (_replace("    demarche: 2246\n", ""), "id: pal", "targets[0].demarche: missing required key"),
    "bad-system": (
        _replace("system: rdvpref", "system: doctolib"),
        "system: doctolib",
        "targets[0].system: `system` must be",
    ),
    "duplicate-key": ("seed: 1\n" + BASE, "seed: 5", "seed: duplicate key"),
    "yaml-syntax": (
        _replace("    announce: 1h", "      announce: 1h"),
        "announce: 1h",
        "YAML: mapping values are not allowed",
    ),
    "not-monday": (
        _replace("    size: 5", "    size: 5\n    week_of: 2026-05-19"),
        "week_of",
        "week_of must be a Monday",
    ),
    "unknown-host": (
        _replace("host: www.essonne.gouv.fr\n    from", "host: www.essone.gouv.fr\n    from"),
        "essone",
        "no target on host",
    ),
    "rules-key": (BASE + "rules: {legacy_burst_rps: 2, nope: 1}\n", "rules:", "rules.nope: unknown key"),
    "params-key": (
        BASE + "generate:\n  targets: 3\n  params: {warp: 9}\n",
        "params",
        "generate.params.warp: unknown key",
    ),
    "params-value": (
        BASE + "generate:\n  targets: 3\n  params:\n    lead_days: {p50: 9, p90: 2}\n",
        "lead_days",
        "need 0 < p50 <= p90",
    ),
    "hold-on-rdvpref": (
        _replace("  - target: ess\n    at: +4m", "  - target: pal\n    at: +4m"),
        "kind: hold_return",
        "only happen on legacy",
    ),
    "bad-lifetime": (_replace("    size: 5", "    size: 5\n    lifetime: {p50: 5m}"), "lifetime", "{p50: …, p90: …}"),
    "relative-start": (_replace("start: 2026-05-04T08:00:00+02:00", "start: +1h"), "start:", "start must be `now`"),
    "same-demarche": (
        _replace("meeting_point: 1213", "meeting_point: 1213\n    host: www.rdv-prefecture.interieur.gouv.fr").replace(
            "meeting_point: 1213", "meeting_point: 2246"
        ),
        "meeting_point",
        "already used",
    ),
    "slot-too-close": (
        _replace("slots: [2026-05-20T09:00, 2026-05-20T09:15]", "slots: [+30m]"),
        "slots: [+30m]",
        "too close",
    ),
    "both-size-and-slots": (
        _replace("    planning: 23198", "    planning: 23198\n    size: 3"),
        "slots:",
        "either `size` or `slots`",
    ),
}


@pytest.mark.parametrize(("text", "needle", "message"), list(ERRORS.values()), ids=list(ERRORS))
def test_scenario_error_names_file_line_and_key_when_the_file_is_wrong(text: str, needle: str, message: str) -> None:
    error = _error(text)
    assert f"demo.yaml:{_line_of(text, needle)}:" in error
    assert message in error


def test_scenario_error_reports_every_problem_sorted_by_line() -> None:
    text = _replace("at: +2m", "at: later").replace("planning: 23198", "planning: 999")
    lines = _error(text).splitlines()
    assert len(lines) == 1  # schema errors stop before reference checks
    text = _replace("  - target: pal", "  - target: x").replace("planning: 23198", "planning: 999")
    lines = _error(text).splitlines()
    assert [int(line.split(":")[1]) for line in lines] == sorted(int(line.split(":")[1]) for line in lines)
    assert len(lines) == 2


def test_scenario_error_says_what_a_scenario_is_when_the_file_is_a_list() -> None:
    assert "demo.yaml:1:" in _error("- 1\n- 2\n")


def test_load_scenario_names_the_path_when_reading_a_file(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(BASE.replace("at: +2m", "at: tomorow"), encoding="utf-8")
    with pytest.raises(ScenarioError, match=r"bad\.yaml:\d+: publications\[0\]\.at"):
        load_scenario(path)


def test_shipped_demo_scenario_loads_with_every_system_and_a_live_start() -> None:
    world = load_scenario(SHIPPED / "demo.yaml", now=START)
    assert {t.system.value for t in world.targets.values()} == {"rdvpref", "legacy", "ants"}
    assert any(t.host == "pprdv.interieur.gouv.fr" for t in world.targets.values())
    assert min(p.instant for p in world.publications) < START + timedelta(minutes=5)
    assert any(s.origin is SlotOrigin.CANCELLATION for s in world.slots)
    assert world.episodes


def test_shipped_realistic_france_scenario_generates_its_targets() -> None:
    text = (SHIPPED / "realistic-france.yaml").read_text(encoding="utf-8")
    spec, _ = parse_scenario(text, name="realistic-france.yaml")
    assert spec.generate is not None
    assert spec.generate.targets == 300
    world = load_scenario_text(text.replace("targets: 300", "targets: 20").replace("duration: 35d", "duration: 3d"))
    assert len(world.targets) == 20


def _keys(model: type[BaseModel]) -> set[str]:
    out: set[str] = set()
    for name, info in model.model_fields.items():
        out.add(info.alias or name)
        for arg in _model_args(info.annotation):
            out |= _keys(arg)
    return out


def _model_args(annotation: object) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [m for arg in getattr(annotation, "__args__", ()) for m in _model_args(arg)]


def test_every_scenario_key_is_documented() -> None:
    doc = (ROOT / "docs" / "scenarios.md").read_text(encoding="utf-8")
    keys = _keys(scenario_schema.ScenarioSpec) | {f.name for f in dataclasses.fields(RateRules)}
    missing = sorted(k for k in keys if f"`{k}`" not in doc)
    assert missing == []


def test_documented_full_example_loads() -> None:
    doc = (ROOT / "docs" / "scenarios.md").read_text(encoding="utf-8")
    example = doc.split("## Full example", 1)[1].split("```yaml\n", 1)[1].split("```", 1)[0]
    world = load_scenario_text(example, name="scenarios.md")
    assert len(world.targets) == 4
    assert len(world.publications) == 4
    assert len(world.episodes) == 3
