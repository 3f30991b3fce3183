# SPDX-License-Identifier: AGPL-3.0-or-later
from __future__ import annotations

import pytest

from creneau.catalog.competence import competent
from creneau.catalog.core import Catalog


def _answer(catalog: Catalog, code: str, demarche: str):  # type: ignore[no-untyped-def]
    commune = catalog.geography.by_code(code)
    assert commune is not None
    return competent(catalog, commune, catalog.demarches[demarche])


@pytest.mark.parametrize(
    ("code", "demarche", "offices", "basis"),
    [
        ("75115", "sejour.first", ["pp-paris"], "override:paris-pp-residence"),
        ("75056", "natz.declaration", ["pp-paris"], "override:paris-pp-naturalisation"),
        ("82121", "natz.decree", ["pref-31"], "override:natz-platform-toulouse"),
        ("30189", "natz.declaration", ["pref-34"], "override:natz-platform-montpellier"),
        ("15014", "natz.decree", ["pref-63"], "override:natz-platform-clermont"),
        ("39198", "natz.decree", ["pref-25"], "override:natz-platform-besancon"),
        ("91477", "sejour.renewal", ["spref-91-palaiseau"], "override:foreigners-spref-91-palaiseau"),
        ("92012", "sejour.collection", ["spref-92-boulogne-billancourt"], "override:foreigners-spref-92-boulogne"),
        (
            "13055",
            "sejour.first",
            ["pref-13", "spref-13-istres", "spref-13-arles", "spref-13-aix-en-provence"],
            "override:bdr-sejour-first-by-motive",
        ),
        ("13001", "sejour.renewal", ["pref-13"], "default"),
        ("91223", "sejour.first", ["pref-91"], "default"),
        ("97308", "sejour.first", ["pref-973"], "default"),
        ("97611", "sejour.first", ["pref-976"], "default"),
        ("92002", "permis.medical", ["spref-92-antony"], "general"),
        ("75056", "permis.medical", ["pref-75"], "general"),
        ("97308", "permis.medical", ["spref-973-saint-georges"], "general"),
    ],
)
def test_competent_picks_offices_with_reason_when_resident_of_commune(
    catalog: Catalog, code: str, demarche: str, offices: list[str], basis: str
) -> None:
    answer = _answer(catalog, code, demarche)
    assert [o.id for o in answer.offices] == offices
    assert answer.basis == basis
    assert answer.reason


@pytest.mark.parametrize("demarche", ["permis.exchange", "vehicle.registration", "id.passport", "id.cni", "asylum"])
def test_competent_names_no_office_when_demarche_is_not_booked_at_an_office(catalog: Catalog, demarche: str) -> None:
    answer = _answer(catalog, "69123", demarche)
    assert answer.offices == ()
    assert answer.general_office is not None
    assert answer.reason


def test_competent_prefers_arrondissement_rule_when_departement_rule_also_matches(catalog: Catalog) -> None:
    # 92 has no département rule for sejour, but Paris has one; the Antony arrondissement rule is the specific one.
    assert _answer(catalog, "92002", "sejour.first").basis == "override:foreigners-spref-92-antony"


def test_competent_uses_arrondissement_of_delegated_commune_when_given_its_code(catalog: Catalog) -> None:
    delegated = next(r for r in catalog.geography.records() if r.type == "COMD" and r.departement == "01")
    answer = competent(catalog, delegated, catalog.demarches["permis.medical"])
    assert answer.offices[0].arrondissement == delegated.arrondissement
