# SPDX-License-Identifier: AGPL-3.0-or-later
"""Turn the `@etalab/decoupage-administratif` JSON files into creneau's slim geography.

`read_cog(folder)` reads `communes.json`, `arrondissements.json` and `departements.json` (the layout of the npm
package's `data/` folder) and applies the known source corrections in `FIXES`, each with its reason. It raises
`CogError` with a one-line message on anything it cannot use, before anything is written.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

from creneau.catalog.geo import Arrondissement, Commune, CommuneType, Departement, Geography

_TYPES = {
    "commune-actuelle": CommuneType.CURRENT,
    "commune-deleguee": CommuneType.DELEGATED,
    "commune-associee": CommuneType.ASSOCIATED,
    "arrondissement-municipal": CommuneType.MUNICIPAL_ARRONDISSEMENT,
}

FIXES: dict[tuple[str, str], tuple[str, str, str]] = {
    # (département code, field) → (wrong value in the source, corrected value, why)
    ("984", "chef_lieu"): (
        "97502",
        "97416",
        "the COG gives TAAF the chef-lieu 97502 (Saint-Pierre, Saint-Pierre-et-Miquelon); the TAAF "
        "administration sits in Saint-Pierre, La Réunion (97416)",
    ),
}


class CogError(ValueError):
    """The COG files cannot be read or do not look like the expected export."""


def read_cog(folder: Path) -> tuple[Geography, list[str]]:
    """The geography in `folder` and the list of corrections applied (human-readable)."""
    communes = _load(folder, "communes.json")
    arrondissements = _load(folder, "arrondissements.json")
    departements = _load(folder, "departements.json")
    try:
        records = [_commune(r) for r in communes]
        arrs = {a.code: a for a in (_arrondissement(r) for r in arrondissements)}
        depts = {d.code: d for d in (_departement(r) for r in departements)}
    except (KeyError, TypeError, ValueError) as exc:
        raise CogError(f"{folder}: a record lacks an expected field ({exc})") from None
    applied = []
    for (code, field_name), (wrong, right, why) in FIXES.items():
        dept = depts.get(code)
        if dept is not None and getattr(dept, field_name) == wrong:
            depts[code] = replace(dept, **{field_name: right})
            applied.append(f"département {code} {field_name} {wrong} → {right}: {why}")
    if not arrs or not any(c.is_current for c in records):
        raise CogError(f"{folder}: no arrondissement or no current commune found")
    return Geography.from_records(records, arrs, depts), applied


def _load(folder: Path, name: str) -> list[dict[str, Any]]:
    path = folder / name
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CogError(f"{path}: file not found (expected the decoupage-administratif data folder)") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CogError(f"{path}: not a readable JSON file ({exc})") from None
    if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
        raise CogError(f"{path}: expected a JSON list of records")
    return data


def _commune(r: dict[str, Any]) -> Commune:
    kind = _TYPES.get(r["type"])
    if kind is None:
        raise ValueError(f"unknown commune type {r['type']!r}")
    parent = r.get("commune") or r.get("chefLieu") or ""
    if parent == r["code"] and kind != CommuneType.CURRENT:
        parent = r["code"]
    return Commune(
        code=str(r["code"]),
        name=str(r["nom"]),
        type=kind,
        departement=str(r["departement"]),
        arrondissement=str(r.get("arrondissement") or ""),
        parent=str(parent) if kind != CommuneType.CURRENT else "",
        postcodes=tuple(sorted(set(r.get("codesPostaux") or ()))),
        population=int(r.get("population") or 0),
    )


def _arrondissement(r: dict[str, Any]) -> Arrondissement:
    return Arrondissement(str(r["code"]), str(r["departement"]), str(r["nom"]), str(r["chefLieu"]))


def _departement(r: dict[str, Any]) -> Departement:
    return Departement(str(r["code"]), str(r["nom"]), str(r["zone"]), str(r["region"]), str(r["chefLieu"]))
