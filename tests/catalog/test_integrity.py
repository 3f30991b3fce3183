# SPDX-License-Identifier: AGPL-3.0-or-later
"""The shipped catalog's integrity, one check per test so a failure names what broke."""

from __future__ import annotations

from collections import Counter

import pytest

from creneau.catalog.core import Catalog
from creneau.catalog.integrity import CHECKS
from creneau.catalog.model import OfficeKind


@pytest.mark.parametrize("check", CHECKS, ids=lambda check: check.__name__)
def test_shipped_catalog_passes_check_when_loaded(catalog: Catalog, check) -> None:  # type: ignore[no-untyped-def]
    assert check(catalog) == []


def test_catalog_has_333_arrondissements_each_with_exactly_one_office_when_loaded(catalog: Catalog) -> None:
    arrondissements = catalog.geography.arrondissements
    assert len(arrondissements) == 333
    seats = Counter(o.arrondissement for o in catalog.offices.values() if o.arrondissement)
    assert set(seats) == set(arrondissements)
    assert set(seats.values()) == {1}


def test_catalog_counts_prefectures_and_sub_prefectures_when_loaded(catalog: Catalog) -> None:
    kinds = Counter(o.kind for o in catalog.offices.values() if o.arrondissement)
    assert kinds[OfficeKind.PREFECTURE] == 100
    assert kinds[OfficeKind.SOUS_PREFECTURE] == 233
    assert 350 <= len(catalog.offices) <= 370


def test_every_current_commune_resolves_to_an_office_when_loaded(catalog: Catalog) -> None:
    geo = catalog.geography
    codes = geo.current_codes()
    assert len(codes) == 34_969
    without_arrondissement = set()
    for code in codes:
        commune = geo.by_code(code)
        assert commune is not None
        assert catalog.general_office(commune) is not None, code
        if not commune.arrondissement:
            without_arrondissement.add(commune.departement)
    # Mayotte and the overseas collectivities have no arrondissements: they resolve by département.
    assert without_arrondissement == {"976", "975", "977", "978", "984", "986", "987", "988", "989"}


@pytest.mark.parametrize(
    ("departement", "office_id"),
    [("976", "pref-976"), ("984", "other-984-taaf"), ("989", "pref-987"), ("988", "pref-988"), ("975", "pref-975")],
)
def test_territories_without_arrondissements_resolve_by_departement_when_loaded(
    catalog: Catalog, departement: str, office_id: str
) -> None:
    assert catalog.prefecture_of(departement) is not None
    commune = next(
        c
        for c in (catalog.geography.by_code(code) for code in catalog.geography.current_codes())
        if c and c.departement == departement
    )
    office = catalog.general_office(commune)
    assert office is not None
    assert office.id == office_id


def test_taaf_chef_lieu_is_corrected_when_loaded(catalog: Catalog) -> None:
    assert catalog.geography.departements["984"].chef_lieu == "97416"


def test_saint_georges_and_prefecture_de_police_are_listed_when_loaded(catalog: Catalog) -> None:
    assert catalog.office_of_arrondissement("9733").id == "spref-973-saint-georges"  # type: ignore[union-attr]
    assert catalog.offices["pp-paris"].kind is OfficeKind.PREFECTURE_DE_POLICE
    assert {o.id for o in catalog.offices_in("75")} >= {"pref-75", "pp-paris", "pp-paris-cre-charcot"}


def test_dila_fields_are_marked_2022_and_unverified_when_loaded(catalog: Catalog) -> None:
    office = catalog.offices["pref-01"]
    for name in ("address", "phone", "email", "name"):
        source = office.source_of(name)
        assert source is not None
        assert source.source == "dila-2022"
        assert source.last_verified is None
    assert catalog.sources["dila-2022"].date.isoformat() == "2022-10-28"  # type: ignore[union-attr]


def test_known_booking_ids_ship_unverified_when_loaded(catalog: Catalog) -> None:
    expected = {"rdvpref-16040", "rdvpref-3762", "rdvpref-2246", "legacy-pprdv-interieur-989", "legacy-essonne-23014"}
    assert expected <= set(catalog.targets)
    assert all(t.last_verified is None for t in catalog.targets.values())
    assert "rdvpref-16041" not in catalog.targets  # a guessed id in its source, not shipped


def test_targets_are_types_target_when_exposed(catalog: Catalog) -> None:
    target = catalog.targets["legacy-essonne-23014"].target
    assert target.office_id == "pref-91"
    assert target.demarche_id == 23014
    assert dict(target.guichets)["23018"] == "Guichet A"
    assert len(catalog.watch_targets()) == len(catalog.targets)
