# SPDX-License-Identifier: AGPL-3.0-or-later
"""`catalog refresh`: differences computed before writing, nothing written on a bad file, atomic writes."""

from __future__ import annotations

import csv
import json
import shutil
from datetime import date
from pathlib import Path

import pytest

from creneau.catalog.annuaire import REQUIRED, AnnuaireError
from creneau.catalog.cogimport import CogError
from creneau.catalog.core import Catalog, load_catalog, shipped_data_dir
from creneau.catalog.geo import CommuneType
from creneau.catalog.refresh import apply_refresh, plan_refresh

DAY = date(2026, 12, 1)
_TYPES = {
    CommuneType.CURRENT: "commune-actuelle",
    CommuneType.DELEGATED: "commune-deleguee",
    CommuneType.ASSOCIATED: "commune-associee",
    CommuneType.MUNICIPAL_ARRONDISSEMENT: "arrondissement-municipal",
}


def write_cog(catalog: Catalog, folder: Path) -> Path:
    """The shipped geography written back in the decoupage-administratif layout (data/*.json)."""
    data = folder / "package" / "data"
    data.mkdir(parents=True)
    geo = catalog.geography
    communes = [
        {
            "code": c.code,
            "nom": c.name,
            "type": _TYPES[c.type],
            "departement": c.departement,
            "region": "00",
            "arrondissement": c.arrondissement,
            "codesPostaux": list(c.postcodes),
            "population": c.population,
            **({"commune": c.parent} if c.type == CommuneType.MUNICIPAL_ARRONDISSEMENT else {}),
            **({"chefLieu": c.parent} if c.type in (CommuneType.DELEGATED, CommuneType.ASSOCIATED) else {}),
        }
        for c in geo.records()
    ]
    arrs = [
        {"code": a.code, "departement": a.departement, "region": "00", "chefLieu": a.chef_lieu, "nom": a.name}
        for a in geo.arrondissements.values()
    ]
    depts = [
        {"code": d.code, "region": d.region, "chefLieu": d.chef_lieu, "nom": d.name, "zone": d.zone}
        for d in geo.departements.values()
    ]
    depts = [d | {"chefLieu": "97502"} if d["code"] == "984" else d for d in depts]
    for name, records in (("communes", communes), ("arrondissements", arrs), ("departements", depts)):
        (data / f"{name}.json").write_text(json.dumps(records, ensure_ascii=False), encoding="utf-8")
    return folder / "package"


@pytest.fixture(scope="module")
def cog_same(catalog: Catalog, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_cog(catalog, tmp_path_factory.mktemp("cog"))


@pytest.fixture(scope="module")
def cog_2027(cog_same: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("cog2027") / "package"
    shutil.copytree(cog_same, folder)
    path = folder / "data" / "communes.json"
    communes = json.loads(path.read_text(encoding="utf-8"))
    for record in communes:
        if record["code"] == "91477" and record["type"] == "commune-actuelle":
            record["nom"] = "Palaiseau-sur-Yvette"
    communes = [r for r in communes if r["code"] != "01001"]
    communes.append(
        {
            "code": "01999",
            "nom": "Nouvelle-Commune",
            "type": "commune-actuelle",
            "departement": "01",
            "region": "84",
            "arrondissement": "012",
            "codesPostaux": ["01000"],
            "population": 10,
        }
    )
    path.write_text(json.dumps(communes, ensure_ascii=False), encoding="utf-8")
    return folder


def write_annuaire(catalog: Catalog, path: Path, phone: str) -> Path:
    office, aix = catalog.offices["pref-01"], catalog.offices["spref-13-aix-en-provence"]
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, [*REQUIRED, "service_distribution"], delimiter="\t")
        writer.writeheader()
        common = {"complement1": "", "complement2": "", "service_distribution": "", "type_service_local": "prefecture"}
        writer.writerow(
            common
            | {
                "id": office.dila_id,
                "nom": office.name,
                "site_internet": office.website.replace("https", "http"),
                "telephone": phone,
                "adresse_courriel": office.email,
                "numero_voie": office.address,
                "code_postal": office.postcode,
                "nom_commune": office.town,
            }
        )
        writer.writerow(
            common
            | {
                "id": aix.dila_id,
                "nom": aix.name,
                "site_internet": aix.website,
                "telephone": aix.phone,
                "adresse_courriel": aix.email,
                "numero_voie": "Place Félix-Baret",
                "code_postal": "",
                "nom_commune": aix.town,
                "type_service_local": "sous_pref",
            }
        )
        writer.writerow(
            common
            | {
                "id": "new-office",
                "nom": "Sous-préfecture - Nouvelle",
                "site_internet": "",
                "telephone": "",
                "adresse_courriel": "",
                "numero_voie": "",
                "code_postal": "",
                "nom_commune": "",
                "type_service_local": "sous_pref",
            }
        )
    return path


def test_plan_refresh_lists_commune_changes_when_cog_differs(catalog: Catalog, cog_2027: Path) -> None:
    plan = plan_refresh(catalog, cog_2027, None, DAY)
    assert "commune renamed: 91477 Palaiseau → Palaiseau-sur-Yvette" in plan.changes
    assert "commune removed: 01001 L'Abergement-Clémenciat" in plan.changes
    assert "commune added: 01999 Nouvelle-Commune" in plan.changes
    assert len(plan.changes) == 3
    assert any("984" in note for note in plan.notes)


def test_plan_refresh_finds_nothing_when_cog_is_the_shipped_one(catalog: Catalog, cog_same: Path) -> None:
    assert plan_refresh(catalog, cog_same, None, DAY).empty


def test_plan_refresh_keeps_curated_fields_when_annuaire_differs(catalog: Catalog, tmp_path: Path) -> None:
    path = write_annuaire(catalog, tmp_path / "annuaire.tsv", phone="04 00 00 00 00")
    plan = plan_refresh(catalog, None, path, DAY)
    assert plan.changes == ["office pref-01: phone '04 74 32 30 00' → '04 00 00 00 00'"]
    assert any("spref-13-aix-en-provence: address kept (curated)" in note for note in plan.notes)
    assert any("Sous-préfecture - Nouvelle" in note for note in plan.notes)


def test_apply_refresh_writes_new_files_when_confirmed(catalog: Catalog, cog_2027: Path, tmp_path: Path) -> None:
    folder = tmp_path / "data"
    shutil.copytree(shipped_data_dir(), folder)
    annuaire = write_annuaire(catalog, tmp_path / "annuaire.tsv", phone="04 00 00 00 00")
    written = apply_refresh(plan_refresh(catalog, cog_2027, annuaire, DAY), folder)
    assert set(written) == {"communes.json", "arrondissements.csv", "departements.csv", "offices.csv", "sources.csv"}
    fresh = load_catalog(folder=folder)
    assert fresh.geography.by_code("91477").name == "Palaiseau-sur-Yvette"  # type: ignore[union-attr]
    assert fresh.offices["pref-01"].phone == "04 00 00 00 00"
    assert fresh.offices["pref-01"].source_of("phone").source == "dila-2026-12-01"  # type: ignore[union-attr]
    assert "dila-2026-12-01" in fresh.sources
    assert not [p for p in folder.iterdir() if p.name.startswith(".")]


@pytest.mark.parametrize("content", ["{not json", "[1, 2]", '{"a": 1}'], ids=["broken", "not-records", "not-a-list"])
def test_plan_refresh_fails_in_one_line_when_cog_is_bad(catalog: Catalog, tmp_path: Path, content: str) -> None:
    for name in ("communes", "arrondissements", "departements"):
        (tmp_path / f"{name}.json").write_text(content, encoding="utf-8")
    with pytest.raises(CogError) as caught:
        plan_refresh(catalog, tmp_path, None, DAY)
    assert "\n" not in str(caught.value)


def test_plan_refresh_fails_when_annuaire_has_wrong_columns(catalog: Catalog, tmp_path: Path) -> None:
    path = tmp_path / "x.tsv"
    path.write_text("a\tb\n1\t2\n", encoding="utf-8")
    with pytest.raises(AnnuaireError, match="missing columns"):
        plan_refresh(catalog, None, path, DAY)
