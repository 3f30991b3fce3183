# SPDX-License-Identifier: AGPL-3.0-or-later
"""The detector and the scheduling policy stay pure (style rule 15): walk their imports, transitively
within creneau, and fail on any framework or I/O library."""

from __future__ import annotations

import ast
import importlib.util
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parent.parent / "src"
FORBIDDEN = ("aiohttp", "sqlalchemy", "aiogram", "fastapi", "asyncio", "creneau.sources", "creneau.store")
PURE_ROOTS = ["creneau.detector", "creneau.monitor.policy"]
PURE_HELPERS = [
    f"creneau.monitor.{name}"
    for name in ("allocation", "backoff", "budget", "durations", "explain", "learning", "plan", "politeness", "timing")
]


def _file_of(module: str) -> Path | None:
    base = SRC.joinpath(*module.split("."))
    if base.with_suffix(".py").is_file():
        return base.with_suffix(".py")
    if (base / "__init__.py").is_file():
        return base / "__init__.py"
    return None


def _imports(module: str, path: Path) -> set[str]:
    found: set[str] = set()
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            name = (
                importlib.util.resolve_name("." * node.level + (node.module or ""), package)
                if node.level
                else node.module or ""
            )
            found.add(name)
            found.update(f"{name}.{alias.name}" for alias in node.names)
    return found


def closure(root: str) -> dict[str, set[str]]:
    """Every creneau module reachable from `root` (with its submodules) → the names it imports."""
    seen: dict[str, set[str]] = {}
    todo = [root]
    root_dir = SRC.joinpath(*root.split("."))
    if root_dir.is_dir():
        todo += [f"{root}.{p.stem}" for p in root_dir.glob("*.py") if p.stem != "__init__"]
    while todo:
        module = todo.pop()
        path = _file_of(module)
        if module in seen or path is None:
            continue
        seen[module] = _imports(module, path)
        todo.extend(name for name in seen[module] if name.startswith("creneau"))
    return seen


def _violations(root: str) -> list[str]:
    return [
        f"{module} imports {name}"
        for module, names in closure(root).items()
        for name in sorted(names)
        if any(name == bad or name.startswith(bad + ".") for bad in FORBIDDEN)
    ]


@pytest.mark.parametrize("root", PURE_ROOTS + PURE_HELPERS)
def test_pure_module_imports_no_framework_when_walked(root: str) -> None:
    assert _file_of(root) is not None, f"{root} is missing"
    assert _violations(root) == []


def test_import_contract_flags_a_framework_import_when_present(tmp_path: Path) -> None:
    module = tmp_path / "bad.py"
    module.write_text("from sqlalchemy import select\nimport aiohttp.web\n", encoding="utf-8")
    names = _imports("creneau.bad", module)
    assert any(name.startswith("sqlalchemy") for name in names)
    assert "aiohttp.web" in names
