# SPDX-License-Identifier: AGPL-3.0-or-later
"""`creneau catalog refresh`: import a newer COG and/or Service-Public annuaire export.

`plan_refresh` reads the new files and computes every difference (communes added, removed, renamed or moved;
arrondissements and départements changed; office fields changed) without writing anything. `apply_refresh`
then writes the new files into the data folder, each through a temporary file and `os.replace`, so a reader
sees either the old or the new file, never a half-written one. Fields whose provenance is `curated` are never
overwritten by the annuaire: they hold deliberate corrections.
"""

from __future__ import annotations

import os
import tarfile
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from types import MappingProxyType
from typing import Any

from creneau.catalog import core
from creneau.catalog.annuaire import AnnuaireRow, read_annuaire
from creneau.catalog.cogimport import CogError, read_cog
from creneau.catalog.core import Catalog
from creneau.catalog.geo import Geography
from creneau.catalog.integrity import check_arrondissements
from creneau.catalog.model import FieldSource, OfficeRecord, Source
from creneau.catalog.official import is_official_url
from creneau.catalog.records import write_offices, write_sources

OFFICE_FIELDS_FROM_ANNUAIRE = ("name", "address", "postcode", "town", "website", "phone", "email")
_COG_FILES = ("communes.json", "arrondissements.json", "departements.json")


@dataclass
class Plan:
    changes: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    geography: Geography | None = None
    offices: list[OfficeRecord] | None = None
    sources: list[Source] | None = None

    @property
    def empty(self) -> bool:
        return not self.changes


def plan_refresh(catalog: Catalog, cog: Path | None, annuaire: Path | None, annuaire_date: date) -> Plan:
    """Everything the refresh would change; raises CogError / AnnuaireError (one line) on a bad file."""
    plan = Plan()
    if cog is not None:
        with tempfile.TemporaryDirectory() as scratch:
            geography, fixes = read_cog(_cog_folder(cog, Path(scratch)))
        plan.notes += [f"correction kept: {fix}" for fix in fixes]
        plan.changes += diff_geography(catalog.geography, geography)
        plan.geography = geography
        after = replace(catalog, geography=geography)
        plan.warnings += [f"after refresh: {p}" for p in check_arrondissements(after)]
    if annuaire is not None:
        rows = read_annuaire(annuaire)
        offices, changes, notes = diff_offices(catalog, rows, annuaire_date)
        plan.changes += changes
        plan.notes += notes
        if changes:
            plan.offices = offices
            source_id = _source_id(annuaire_date)
            if source_id not in catalog.sources:
                plan.sources = [*catalog.sources.values(), _annuaire_source(source_id, annuaire_date)]
    return plan


def _cog_folder(path: Path, scratch: Path) -> Path:
    """The folder holding the three COG JSON files: a folder, its `data/` child, one of the files, or an npm .tgz."""
    if path.is_dir():
        return path / "data" if (path / "data" / _COG_FILES[0]).exists() else path
    if path.is_file() and path.name in _COG_FILES:
        return path.parent
    if path.is_file() and tarfile.is_tarfile(path):
        with tarfile.open(path) as archive:
            for member in archive.getmembers():
                name = Path(member.name).name
                if member.isfile() and name in _COG_FILES and Path(member.name).parent.name == "data":
                    extracted = archive.extractfile(member)
                    if extracted is not None:
                        (scratch / name).write_bytes(extracted.read())
        return scratch
    if not path.exists():
        raise CogError(f"{path}: file not found")
    raise CogError(f"{path}: expected the decoupage-administratif data folder, one of its JSON files or its .tgz")


def diff_geography(old: Geography, new: Geography) -> list[str]:
    out = []
    old_current = {c.code: c for c in (old.by_code(code) for code in old.current_codes()) if c}
    new_current = {c.code: c for c in (new.by_code(code) for code in new.current_codes()) if c}
    out += [
        f"commune added: {code} {new_current[code].name}" for code in sorted(new_current.keys() - old_current.keys())
    ]
    out += [
        f"commune removed: {code} {old_current[code].name}" for code in sorted(old_current.keys() - new_current.keys())
    ]
    for code in sorted(old_current.keys() & new_current.keys()):
        a, b = old_current[code], new_current[code]
        if a.name != b.name:
            out.append(f"commune renamed: {code} {a.name} → {b.name}")
        if a.arrondissement != b.arrondissement:
            out.append(
                f"commune moved: {code} {b.name} arrondissement {a.arrondissement or '-'} → {b.arrondissement or '-'}"
            )
    for label, before, after in (
        ("arrondissement", old.arrondissements, new.arrondissements),
        ("département", old.departements, new.departements),
    ):
        out += [f"{label} added: {code} {after[code].name}" for code in sorted(after.keys() - before.keys())]
        out += [f"{label} removed: {code} {before[code].name}" for code in sorted(before.keys() - after.keys())]
        for code in sorted(before.keys() & after.keys()):
            x, y = before[code], after[code]
            if x.name != y.name:
                out.append(f"{label} renamed: {code} {x.name} → {y.name}")
            if x.chef_lieu != y.chef_lieu:
                out.append(f"{label} chef-lieu changed: {code} {x.chef_lieu} → {y.chef_lieu}")
    return out


def diff_offices(
    catalog: Catalog, rows: dict[str, AnnuaireRow], day: date
) -> tuple[list[OfficeRecord], list[str], list[str]]:
    """The updated offices, the change lines, and notes (curated values kept, rows not in the catalog)."""
    source = FieldSource(_source_id(day), None)
    offices, changes, notes = [], [], []
    known = set()
    for office in catalog.offices.values():
        row = rows.get(office.dila_id) if office.dila_id else None
        if row is None:
            if office.dila_id:
                notes.append(f"office {office.id}: not in the annuaire export (kept as is)")
            offices.append(office)
            continue
        known.add(row.dila_id)
        updates: dict[str, Any] = {}
        provenance = dict(office.provenance)
        for name in OFFICE_FIELDS_FROM_ANNUAIRE:
            value = _https(row.website) if name == "website" else getattr(row, name)
            current = getattr(office, name)
            if value == current:
                continue
            origin = office.provenance.get(name)
            if origin is not None and origin.source == "curated":
                notes.append(f"office {office.id}: {name} kept (curated) instead of {value!r}")
                continue
            if name == "website" and value and not is_official_url(value):
                notes.append(f"office {office.id}: website {value!r} refused (not an official https URL)")
                continue
            updates[name] = value
            provenance[name] = source
            changes.append(f"office {office.id}: {name} {current!r} → {value!r}")
        offices.append(replace(office, **updates, provenance=MappingProxyType(provenance)) if updates else office)
    notes += [
        f"annuaire row not in the catalog: {row.name} ({row.kind}); add it by hand"
        for i, row in rows.items()
        if i not in known and row.kind != "prefecture_region"
    ]
    return offices, changes, notes


def _https(url: str) -> str:
    return "https://" + url[len("http://") :] if url.startswith("http://") else url


def _source_id(day: date) -> str:
    return f"dila-{day.isoformat()}"


def _annuaire_source(source_id: str, day: date) -> Source:
    return Source(
        id=source_id,
        title="Annuaire de l'administration, Base de données locales — Service-Public.gouv.fr / DILA (refresh)",
        url="https://www.data.gouv.fr/",
        date=day,
        licence="Licence Ouverte 2.0",
        verified=False,
    )


def apply_refresh(plan: Plan, folder: Path) -> list[str]:
    """Write the planned files into `folder`; returns the names written. Clears the loaded-catalog cache."""
    staged: list[tuple[Path, Path]] = []
    try:
        if plan.geography is not None:
            scratch = Path(tempfile.mkdtemp(prefix=".cog.", dir=folder))
            plan.geography.write(scratch)
            staged += [
                (scratch / name, folder / name) for name in ("communes.json", "arrondissements.csv", "departements.csv")
            ]
        if plan.offices is not None:
            staged.append(
                (_staged(folder, "offices.csv", lambda p: write_offices(p, plan.offices or [])), folder / "offices.csv")
            )
        if plan.sources is not None:
            staged.append(
                (_staged(folder, "sources.csv", lambda p: write_sources(p, plan.sources or [])), folder / "sources.csv")
            )
        for temp, final in staged:
            os.replace(temp, final)
    finally:
        for temp, _ in staged:
            if temp.exists():
                temp.unlink()
        for scratch_dir in {temp.parent for temp, _ in staged if temp.parent != folder}:
            if scratch_dir.exists():
                os.rmdir(scratch_dir)
    core._shipped.cache_clear()
    return [final.name for _, final in staged]


def _staged(folder: Path, name: str, write: Callable[[Path], None]) -> Path:
    handle, temp = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=folder)
    os.close(handle)
    write(Path(temp))
    return Path(temp)
