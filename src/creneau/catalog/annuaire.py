# SPDX-License-Identifier: AGPL-3.0-or-later
"""Read a Service-Public annuaire export (DILA "Base de données locales") of prefectures and sub-prefectures.

The format is the tab-separated extract creneau was seeded from (columns `id`, `nom`, `type_service_local`,
`code_insee_commune`, `site_internet`, `telephone`, `adresse_courriel`, `complement1`, `complement2`,
`numero_voie`, `code_postal`, `nom_commune`, …). `read_annuaire` raises `AnnuaireError` with one line on
anything else.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

REQUIRED = (
    "id",
    "nom",
    "type_service_local",
    "site_internet",
    "telephone",
    "adresse_courriel",
    "complement1",
    "complement2",
    "numero_voie",
    "code_postal",
    "nom_commune",
)
KINDS = {"prefecture", "sous_pref", "prefecture_region"}


class AnnuaireError(ValueError):
    """The annuaire export cannot be read."""


@dataclass(frozen=True, slots=True)
class AnnuaireRow:
    dila_id: str
    kind: str
    name: str
    address: str
    postcode: str
    town: str
    website: str
    phone: str
    email: str


def read_annuaire(path: Path) -> dict[str, AnnuaireRow]:
    """Rows by DILA id (only prefecture, sub-prefecture and regional-prefecture services)."""
    try:
        with path.open(encoding="utf-8", newline="") as handle:
            reader = csv.DictReader(handle, delimiter="\t")
            missing = [c for c in REQUIRED if c not in (reader.fieldnames or ())]
            if missing:
                raise AnnuaireError(f"{path}: not an annuaire export (missing columns: {', '.join(missing)})")
            rows = {}
            for row in reader:
                if (row["type_service_local"] or "").strip() not in KINDS or not row["id"]:
                    continue
                row = {key: (value or "").strip() for key, value in row.items() if key}
                parts = ("complement1", "complement2", "numero_voie", "service_distribution")
                rows[row["id"]] = AnnuaireRow(
                    dila_id=row["id"],
                    kind=row["type_service_local"],
                    name=row["nom"],
                    address=" | ".join(row[p] for p in parts if row.get(p)),
                    postcode=row["code_postal"],
                    town=row["nom_commune"],
                    website=row["site_internet"],
                    phone=row["telephone"],
                    email=row["adresse_courriel"],
                )
    except FileNotFoundError:
        raise AnnuaireError(f"{path}: file not found") from None
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise AnnuaireError(f"{path}: cannot read ({exc})") from None
    if not rows:
        raise AnnuaireError(f"{path}: no prefecture or sub-prefecture row found")
    return rows
