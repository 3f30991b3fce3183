# SPDX-License-Identifier: AGPL-3.0-or-later
"""The geography creneau ships: communes, arrondissements and départements of the 2026 COG.

Communes are stored column by column in `communes.json` (one JSON list per field, the name key precomputed), so
loading is one `json.loads` and a dict of codes: `Commune` objects are made only for the records a query
touches, and the postcode and name indexes are built on their first use. Nothing is mutated after loading.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

from creneau.catalog.text import name_key, without_article


class CommuneType:
    """INSEE's record types, as shipped in the slim file."""

    CURRENT = "COM"
    DELEGATED = "COMD"
    ASSOCIATED = "COMA"
    MUNICIPAL_ARRONDISSEMENT = "ARM"


TYPE_RANK = {
    CommuneType.CURRENT: 0,
    CommuneType.MUNICIPAL_ARRONDISSEMENT: 1,
    CommuneType.DELEGATED: 2,
    CommuneType.ASSOCIATED: 3,
}
"""Preference among records that share one INSEE code (a commune déléguée often reuses its parent's code)."""


class Commune(NamedTuple):
    """One COG record (a named tuple: made by the thousand, so it must be cheap to build)."""

    code: str
    name: str
    type: str
    departement: str
    arrondissement: str
    parent: str
    postcodes: tuple[str, ...]
    population: int

    @property
    def is_current(self) -> bool:
        return self.type == CommuneType.CURRENT


@dataclass(frozen=True, slots=True)
class Arrondissement:
    code: str
    departement: str
    name: str
    chef_lieu: str


@dataclass(frozen=True, slots=True)
class Departement:
    code: str
    name: str
    zone: str
    region: str
    chef_lieu: str


COLUMNS = ("code", "name", "type", "departement", "arrondissement", "parent", "postcodes", "population", "key")


class Geography:
    """Read-only access to the COG; build it with `load` or `from_records`."""

    def __init__(
        self,
        columns: dict[str, list[Any]],
        arrondissements: dict[str, Arrondissement],
        departements: dict[str, Departement],
    ) -> None:
        missing = [name for name in COLUMNS if name not in columns]
        if missing:
            raise ValueError(f"commune columns missing: {', '.join(missing)}")
        self._cols = columns
        self._codes: list[str] = columns["code"]
        self.arrondissements = arrondissements
        self.departements = departements
        size = len(self._codes)
        # Reversed so that the first record of a code (the preferred type, see `from_records`) wins.
        self._by_code = dict(zip(reversed(self._codes), range(size - 1, -1, -1), strict=True))
        self._postcodes: dict[str, list[int]] | None = None
        self._names: dict[str, list[int]] | None = None

    # --- building -----------------------------------------------------------------------------------
    @classmethod
    def from_records(
        cls,
        communes: Iterable[Commune],
        arrondissements: dict[str, Arrondissement],
        departements: dict[str, Departement],
    ) -> Geography:
        ordered = sorted(communes, key=lambda c: (TYPE_RANK.get(c.type, 9), c.code))
        columns: dict[str, list[Any]] = {name: [] for name in COLUMNS}
        for c in ordered:
            for name in COLUMNS[:-1]:
                value = getattr(c, name)
                columns[name].append(" ".join(value) if name == "postcodes" else value)
            columns["key"].append(name_key(c.name))
        return cls(columns, arrondissements, departements)

    @classmethod
    def load(cls, folder: Path) -> Geography:
        """Read `communes.json`, `arrondissements.csv` and `departements.csv` from `folder`."""
        columns = json.loads((folder / "communes.json").read_text(encoding="utf-8"))
        return cls(
            columns,
            {a.code: a for a in _read_csv(folder / "arrondissements.csv", Arrondissement)},
            {d.code: d for d in _read_csv(folder / "departements.csv", Departement)},
        )

    def write(self, folder: Path) -> None:
        """Write the three files into `folder` (the caller makes the replacement atomic)."""
        (folder / "communes.json").write_text(
            json.dumps(self._cols, ensure_ascii=False, separators=(",", ":")) + "\n", encoding="utf-8"
        )
        _write_csv(folder / "arrondissements.csv", Arrondissement, self.arrondissements.values())
        _write_csv(folder / "departements.csv", Departement, self.departements.values())

    # --- access -------------------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self._codes)

    def record(self, index: int) -> Commune:
        c = self._cols
        return Commune(
            c["code"][index],
            c["name"][index],
            c["type"][index],
            c["departement"][index],
            c["arrondissement"][index],
            c["parent"][index],
            tuple(c["postcodes"][index].split()),
            c["population"][index],
        )

    def records(self) -> Iterator[Commune]:
        return (self.record(i) for i in range(len(self._codes)))

    def current_codes(self) -> list[str]:
        types = self._cols["type"]
        return [code for code, kind in zip(self._codes, types, strict=True) if kind == CommuneType.CURRENT]

    def by_code(self, code: str) -> Commune | None:
        index = self._by_code.get(code)
        return None if index is None else self.record(index)

    def current(self, commune: Commune) -> Commune:
        """The current commune a record belongs to (itself, its parent, or the commune it was merged into)."""
        if commune.is_current or not commune.parent:
            return commune
        return self.by_code(commune.parent) or commune

    def by_postcode(self, postcode: str) -> list[Commune]:
        """Current communes and municipal arrondissements that use this postcode."""
        if self._postcodes is None:
            index: dict[str, list[int]] = {}
            types = self._cols["type"]
            for i, codes in enumerate(self._cols["postcodes"]):
                if codes and types[i] in (CommuneType.CURRENT, CommuneType.MUNICIPAL_ARRONDISSEMENT):
                    for postcode_ in codes.split():
                        index.setdefault(postcode_, []).append(i)
            self._postcodes = index
        return [self.record(i) for i in self._postcodes.get(postcode, ())]

    def name_index(self) -> dict[str, list[int]]:
        """Name key → record indexes, preferred type then most populous first; also without a leading article."""
        if self._names is None:
            index: dict[str, list[int]] = {}
            for i, key in enumerate(self._cols["key"]):
                index.setdefault(key, []).append(i)
                bare = without_article(key)
                if bare:
                    index.setdefault(bare, []).append(i)
            types, population = self._cols["type"], self._cols["population"]
            for indexes in index.values():
                if len(indexes) > 1:
                    indexes.sort(key=lambda i: (TYPE_RANK.get(types[i], 9), -population[i]))
            self._names = index
        return self._names

    def by_name_key(self, key: str) -> list[Commune]:
        return [self.record(i) for i in self.name_index().get(key, ())]

    def stored_key(self, index: int) -> str:
        return str(self._cols["key"][index])


def _read_csv(path: Path, kind: type[Arrondissement] | type[Departement]) -> Iterator[Any]:
    with path.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            yield kind(**row)


def _write_csv(path: Path, kind: type[Arrondissement] | type[Departement], rows: Iterable[Any]) -> None:
    names = list(kind.__dataclass_fields__)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(names)
        writer.writerows([getattr(row, name) for name in names] for row in rows)
