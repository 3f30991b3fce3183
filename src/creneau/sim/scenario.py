# SPDX-License-Identifier: AGPL-3.0-or-later
"""Scenario files: YAML → validated spec → `World` (reference: docs/scenarios.md).

`load_scenario(path)` is what `creneau sim --scenario FILE` calls. Every mistake is reported as a
`ScenarioError` naming the file and the line of the offending key (`demo.yaml:14: publications[2].at:
not an ISO date-time: 'tomorow'`): the file is composed with PyYAML's node API so every key keeps its
line. Unknown keys are errors. The same file and seed always give the same world (with `start: now`,
the same world shifted to the load time).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path as FsPath
from typing import Any

import yaml
from pydantic import ValidationError
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from creneau.sim.model import World
from creneau.sim.scenario_build import build_world
from creneau.sim.scenario_schema import Locator, Path, Problem, RawInt, ScenarioError, ScenarioSpec, dotted

__all__ = ["ScenarioError", "load_scenario", "load_scenario_text", "parse_scenario"]

_SCALARS = SafeConstructor()
_PYDANTIC_REASONS = {
    "extra_forbidden": "unknown key",
    "missing": "missing required key",
    "union_tag_not_found": "missing required key `system` (rdvpref, legacy or ants)",
    "union_tag_invalid": "`system` must be rdvpref, legacy or ants",
}


def load_scenario(path: str | FsPath, *, now: datetime | None = None) -> World:
    """Read, validate and expand a scenario file. `now` replaces the clock for `start: now`.

    Raises ScenarioError (bad content, with file and line) or OSError (unreadable file).
    """
    path = FsPath(path)
    return load_scenario_text(path.read_text(encoding="utf-8"), name=str(path), now=now)


def load_scenario_text(text: str, *, name: str = "<scenario>", now: datetime | None = None) -> World:
    spec, loc = parse_scenario(text, name=name)
    return build_world(spec, loc, now=now or datetime.now(UTC))


def parse_scenario(text: str, *, name: str = "<scenario>") -> tuple[ScenarioSpec, Locator]:
    """The validated spec and the line map of its keys. Raises ScenarioError."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        raise ScenarioError([Problem(name, line, "", f"YAML: {exc.problem or exc}")]) from None
    lines: dict[Path, int] = {}
    problems: list[Problem] = []
    if root is None:
        raise ScenarioError([Problem(name, 1, "", "empty scenario")])
    data = _to_python(root, (), lines, problems, name)
    if problems:
        raise ScenarioError(problems)
    loc = Locator(name, lines)
    if not isinstance(data, dict):
        raise loc.error((), "a scenario is a mapping of keys (seed, start, duration, targets, …)")
    try:
        spec = ScenarioSpec.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError([_problem(loc, data, err) for err in exc.errors()]) from None
    return spec, loc


def _to_python(node: Node, path: Path, lines: dict[Path, int], problems: list[Problem], name: str) -> Any:
    """Plain data from a composed node, recording the line of every key (and list item) in `lines`."""
    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, MappingNode):
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, ScalarNode) else None
            line = key_node.start_mark.line + 1
            if not isinstance(key, str) or key == "<<":
                problems.append(Problem(name, line, "", "keys must be plain names (no merge keys)"))
                continue
            if key in out:
                problems.append(Problem(name, line, dotted((*path, key)), "duplicate key"))
                continue
            lines[(*path, key)] = line
            out[key] = _to_python(value_node, (*path, key), lines, problems, name)
        return out
    if isinstance(node, SequenceNode):
        return [_to_python(item, (*path, i), lines, problems, name) for i, item in enumerate(node.value)]
    assert isinstance(node, ScalarNode)
    tag = node.tag.rsplit(":", 1)[-1]
    if tag == "null":
        return None
    if tag == "bool":
        return _SCALARS.construct_yaml_bool(node)
    if tag == "int":
        return RawInt(_SCALARS.construct_yaml_int(node), node.value)
    if tag == "float":
        return _SCALARS.construct_yaml_float(node)
    return node.value  # str, and timestamps kept as text: our own parsers read them (Paris time)


def _problem(loc: Locator, data: Any, err: Any) -> Problem:
    """A pydantic error → a problem at the error's key, without the union tag pydantic adds to paths."""
    path: list[str | int] = []
    node = data
    for part in err["loc"]:
        if isinstance(node, dict) and part not in node and part == node.get("system"):
            continue  # discriminated-union tag, not a key of the file
        path.append(part)
        if isinstance(node, dict):
            node = node.get(part)
        elif isinstance(node, list) and isinstance(part, int) and part < len(node):
            node = node[part]
        else:
            node = None
    if err["type"] in ("union_tag_invalid", "union_tag_not_found"):
        path.append("system")
    reason = _PYDANTIC_REASONS.get(err["type"]) or str(err["msg"]).removeprefix("Value error, ")
    return loc.problem(tuple(path), reason)
