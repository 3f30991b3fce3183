# SPDX-License-Identifier: AGPL-3.0-or-later
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from creneau.catalog.core import Catalog
from creneau.catalog.resolver import Resolver, Status


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("91477", "91477"),
        ("91120", "91477"),
        ("75015", "75115"),
        ("Paris 15e", "75115"),
        ("paris 15", "75115"),
        ("PARIS 15EME", "75115"),
        ("Marseille 13", "13213"),
        ("marseille 13e arrondissement", "13213"),
        ("Lyon 3e", "69383"),
        ("st etienne", "42218"),
        ("Saint-Étienne", "42218"),
        ("l'hay les roses", "94038"),
        ("Hay les Roses", "94038"),
        ("ST ETIENNE DU ROUVRAY", "76575"),
        ("saint denis 93", "93066"),
        ("Saint-Denis (974)", "97411"),
        ("2A004", "2A004"),
        ("2a004", "2A004"),
        ("Mamoudzou", "97611"),
    ],
    ids=lambda value: value,
)
def test_locate_resolves_one_commune_when_typed_loosely(resolver: Resolver, query: str, code: str) -> None:
    located = resolver.locate(query)
    assert located.status is Status.RESOLVED, located
    assert located.commune.code == code


def test_locate_offers_a_choice_when_postcode_is_shared(resolver: Resolver) -> None:
    located = resolver.locate("91190")
    assert located.status is Status.CHOOSE
    assert len(located.communes) > 1
    assert all("91190" in c.postcodes for c in located.communes)


def test_locate_offers_both_readings_when_code_is_insee_and_postcode(resolver: Resolver) -> None:
    located = resolver.locate("13001")
    assert located.status is Status.CHOOSE
    assert {c.code for c in located.communes} == {"13001", "13201"}


def test_locate_lists_homonyms_most_populous_first_when_name_is_ambiguous(resolver: Resolver) -> None:
    located = resolver.locate("Saint-Denis")
    assert located.status is Status.CHOOSE
    assert [c.code for c in located.communes[:2]] == ["97411", "93066"]


def test_locate_suggests_closest_names_when_name_is_misspelt(resolver: Resolver) -> None:
    located = resolver.locate("Sant Etiene du Rouvray")
    assert located.status is Status.SUGGEST
    assert located.suggestions[0][0] == "saint etienne du rouvray"


@pytest.mark.parametrize("query", ["", "   ", "Xyzzyqq", "00000", "99999"])
def test_locate_finds_nothing_when_query_is_not_a_place(resolver: Resolver, query: str) -> None:
    assert resolver.locate(query).status is Status.NOT_FOUND


@settings(max_examples=60, deadline=None)
@given(index=st.integers(min_value=0, max_value=34_968))
def test_locate_resolves_every_current_commune_by_code_and_exact_name(
    catalog: Catalog, resolver: Resolver, index: int
) -> None:
    code = catalog.geography.current_codes()[index]
    commune = catalog.geography.by_code(code)
    assert commune is not None
    assert resolver.locate(code).communes[0].code == code or resolver.locate(code).status is Status.CHOOSE
    by_name = resolver.locate(commune.name.upper())
    assert code in {c.code for c in by_name.communes}
