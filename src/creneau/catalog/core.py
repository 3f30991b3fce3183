# SPDX-License-Identifier: AGPL-3.0-or-later
"""The catalog object and how it is loaded.

`load_catalog(data_dir)` returns the shipped catalog (read once per process and cached) merged with the
operator's overlay `data_dir/targets.local.csv`, if any. The store imports that same overlay file, so targets
added with `creneau target add` reach the monitor without editing the package.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field, replace
from datetime import date
from importlib.resources import files
from pathlib import Path

from creneau.catalog.geo import Commune, Geography
from creneau.catalog.model import (
    BookingTarget,
    DemarcheInfo,
    Fee,
    OfficeKind,
    OfficeRecord,
    Origin,
    Override,
    Portal,
    Scope,
    Source,
)
from creneau.catalog.records import (
    CatalogDataError,
    read_demarches,
    read_offices,
    read_overrides,
    read_sources,
    read_targets,
)
from creneau.types import Target

LOCAL_TARGETS = "targets.local.csv"


def shipped_data_dir() -> Path:
    """The folder of the data files shipped with the package."""
    return Path(str(files("creneau.catalog") / "data"))


@dataclass
class Catalog:
    geography: Geography
    offices: dict[str, OfficeRecord]
    demarches: dict[str, DemarcheInfo]
    portals: dict[str, Portal]
    fees: list[Fee]
    overrides: list[Override]
    targets: dict[str, BookingTarget]
    sources: dict[str, Source]
    notice: dict[str, str] = field(default_factory=dict)
    _by_departement: dict[str, list[OfficeRecord]] = field(default_factory=dict, init=False, repr=False)
    _by_arrondissement: dict[str, OfficeRecord] = field(default_factory=dict, init=False, repr=False)
    _serving: dict[str, OfficeRecord] = field(default_factory=dict, init=False, repr=False)
    _rules: dict[str, dict[Scope, dict[str, Override]]] = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self) -> None:
        for office in self.offices.values():
            self._by_departement.setdefault(office.departement, []).append(office)
            if office.arrondissement:
                self._by_arrondissement.setdefault(office.arrondissement, office)
            for code in office.serves:
                self._serving.setdefault(code, office)

    # --- offices ------------------------------------------------------------------------------------
    def offices_in(self, departement: str) -> list[OfficeRecord]:
        """Offices of a département: prefecture first, then Préfecture de police sites, sub-prefectures, others (by id)."""
        order = {OfficeKind.PREFECTURE: 0, OfficeKind.PREFECTURE_DE_POLICE: 1, OfficeKind.SOUS_PREFECTURE: 2}
        return sorted(self._by_departement.get(departement, ()), key=lambda o: (order.get(o.kind, 3), o.id))

    def office_of_arrondissement(self, code: str) -> OfficeRecord | None:
        return self._by_arrondissement.get(code)

    def general_office(self, commune: Commune) -> OfficeRecord | None:
        """The office of general competence: the arrondissement's seat, or the département's State office."""
        if commune.arrondissement:
            return self._by_arrondissement.get(commune.arrondissement)
        return self._serving.get(commune.departement)

    def prefecture_of(self, departement: str) -> OfficeRecord | None:
        """The département's prefecture; for territories without one, the office that serves them."""
        for office in self._by_departement.get(departement, ()):
            if office.kind is OfficeKind.PREFECTURE and (office.arrondissement or departement in office.serves):
                return office
        return self._serving.get(departement)

    def override_index(self, demarche_key: str) -> dict[Scope, dict[str, Override]]:
        """Scope → territory code → the first override covering this démarche there (built once per démarche)."""
        index = self._rules.get(demarche_key)
        if index is None:
            index = {scope: {} for scope in Scope}
            for rule in self.overrides:
                if rule.covers(demarche_key):
                    for code in rule.codes:
                        index[rule.scope].setdefault(code, rule)
            self._rules[demarche_key] = index
        return index

    # --- targets ------------------------------------------------------------------------------------
    def targets_for(self, office_id: str, demarche_key: str | None = None) -> list[BookingTarget]:
        return [
            t
            for t in self.targets.values()
            if t.target.office_id == office_id and (demarche_key is None or t.target.demarche_key == demarche_key)
        ]

    def watch_targets(self) -> list[Target]:
        """Every booking target as the `Target` the monitor uses (shipped and local)."""
        return [t.target for t in self.targets.values()]

    def fees_for(self, demarche_key: str, day: date) -> list[Fee]:
        return [f for f in self.fees if demarche_key in f.demarches and f.valid_on(day)]


@functools.lru_cache(maxsize=4)
def _shipped(folder: Path) -> Catalog:
    try:
        geography = Geography.load(folder)
    except (OSError, ValueError, KeyError) as exc:
        raise CatalogDataError(f"{folder}: cannot read the geography ({exc})") from None
    portals, demarches, fees, notice = read_demarches(folder / "demarches.yaml")
    targets: dict[str, BookingTarget] = {}
    for item in read_targets(folder / "targets.csv"):
        if item.id in targets:
            raise CatalogDataError(f"targets.csv: duplicate target id {item.id}")
        targets[item.id] = item
    offices: dict[str, OfficeRecord] = {}
    for office in read_offices(folder / "offices.csv"):
        if office.id in offices:
            raise CatalogDataError(f"offices.csv: duplicate office id {office.id}")
        offices[office.id] = office
    return Catalog(
        geography=geography,
        offices=offices,
        demarches=demarches,
        portals=portals,
        fees=fees,
        overrides=read_overrides(folder / "overrides.csv"),
        targets=targets,
        sources={s.id: s for s in read_sources(folder / "sources.csv")},
        notice=notice,
    )


def load_catalog(data_dir: Path | None = None, *, folder: Path | None = None) -> Catalog:
    """The catalog in `folder` (default: the shipped data) plus the overlay of `data_dir`, if given.

    Raises `CatalogDataError` (one line) when a file is malformed or an overlay target clashes with another.
    """
    base = _shipped((folder or shipped_data_dir()).resolve())
    if data_dir is None:
        return base
    local = data_dir / LOCAL_TARGETS
    if not local.exists():
        return base
    targets = dict(base.targets)
    for item in read_targets(local, Origin.LOCAL):
        if item.id in targets:
            raise CatalogDataError(f"{local}: target {item.id} is already defined")
        targets[item.id] = item
    return replace(base, targets=targets)
