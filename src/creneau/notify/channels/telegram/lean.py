# SPDX-License-Identifier: AGPL-3.0-or-later
"""Importing aiogram without building every Bot API model up front.

aiogram's `types/__init__` calls `model_rebuild()` on each of its ~450 pydantic models at import. Each
built model compiles its own copy of everything it can reach (a `Message` reaches nearly the whole API),
so that loop costs ~120 MB of memory and seconds of CPU, although a sender only ever validates a handful
of models (`sendMessage`, `Message`) and the bot a few more (`Update`).

`install()` registers an import hook: when aiogram is imported for the first time, its models are left
unbuilt (they are declared `defer_build=True`) and each one is given the namespace aiogram would have
rebuilt it with. Pydantic then builds a model, with that namespace, the first time it is used. Nothing
changes for code using aiogram; a model that cannot be built still raises pydantic's own error. When
aiogram was imported before `install()`, it is left as it is.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import sys
from collections.abc import Iterator, Mapping, Sequence
from types import ModuleType
from typing import Any

from pydantic import BaseModel

PACKAGE = "aiogram"


def install() -> None:
    """Make the first import of aiogram lean (idempotent; no effect once aiogram is imported)."""
    if PACKAGE in sys.modules or any(isinstance(finder, _Finder) for finder in sys.meta_path):
        return
    sys.meta_path.insert(0, _Finder())


class _Finder(importlib.abc.MetaPathFinder):
    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname != PACKAGE:
            return None
        sys.meta_path.remove(self)  # one use: the package is imported once
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is None or spec.loader is None:
            return spec
        spec.loader = _Loader(spec.loader)
        return spec


class _Loader(importlib.abc.Loader):
    def __init__(self, real: importlib.abc.Loader) -> None:
        self._real = real

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return self._real.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        recorded: dict[str, Mapping[str, Any]] = {}
        original = BaseModel.__dict__["model_rebuild"]

        def defer(cls: type[BaseModel], /, **kwargs: Any) -> bool | None:
            if not cls.__module__.startswith(PACKAGE + "."):
                return original.__func__(cls, **kwargs)  # type: ignore[no-any-return]
            namespace = kwargs.get("_types_namespace")
            if namespace is not None:
                recorded.setdefault("namespace", namespace)
            return None

        BaseModel.model_rebuild = classmethod(defer)  # type: ignore[method-assign,assignment]
        try:
            self._real.exec_module(module)
        finally:
            BaseModel.model_rebuild = original  # type: ignore[method-assign]
        namespace = dict(recorded.get("namespace") or {})
        for model in _aiogram_models(BaseModel):
            # Read by pydantic when it builds a deferred model on first use (and inherited by generic
            # parametrisations such as `Response[Message]`, created later).
            model.__pydantic_parent_namespace__ = namespace


def _aiogram_models(base: type[BaseModel]) -> Iterator[type[BaseModel]]:
    seen: set[type[BaseModel]] = set()
    stack = [base]
    while stack:
        for sub in stack.pop().__subclasses__():
            if sub not in seen:
                seen.add(sub)
                stack.append(sub)
                if sub.__module__.startswith(PACKAGE + "."):
                    yield sub
