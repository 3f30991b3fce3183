# SPDX-License-Identifier: AGPL-3.0-or-later
from __future__ import annotations

import pytest

from creneau.catalog.urls import UrlError, recognise, target_from_url
from creneau.types import System

RDV = "https://www.rdv-prefecture.interieur.gouv.fr/rdvpref/reservation/demarche/16040/"


@pytest.mark.parametrize(
    ("url", "system", "target_id", "demarche_id"),
    [
        (RDV, System.RDVPREF, "rdvpref-16040", 16040),
        (RDV + "cgu/", System.RDVPREF, "rdvpref-16040", 16040),
        (RDV + "creneau/", System.RDVPREF, "rdvpref-16040", 16040),
        ("https://www.essonne.gouv.fr/booking/create/23014", System.LEGACY, "legacy-essonne-23014", 23014),
        ("https://www.essonne.gouv.fr/booking/create/23014/1", System.LEGACY, "legacy-essonne-23014", 23014),
        ("https://pprdv.interieur.gouv.fr/booking/create/989/4", System.LEGACY, "legacy-pprdv-interieur-989", 989),
        ("https://rdv.ain.gouv.fr/booking/create/804/", System.LEGACY, "legacy-rdv-ain-804", 804),
    ],
)
def test_recognise_reads_system_and_ids_when_url_is_a_booking_page(
    url: str, system: System, target_id: str, demarche_id: int
) -> None:
    for read in (recognise, target_from_url):
        target = read(url)
        assert (target.system, target.id, target.demarche_id) == (system, target_id, demarche_id)


def test_recognise_reads_ants_criteria_when_url_is_the_slot_search() -> None:
    url = (
        "https://api.rendezvouspasseport.ants.gouv.fr/api/SlotsFromPosition?longitude=2.35&latitude=48.85"
        "&radius_km=20&reason=CNI&documents_number=2"
    )
    target = recognise(url)
    assert target.system is System.ANTS
    assert target.ants is not None
    assert (target.ants.latitude, target.ants.radius_km, target.ants.documents_number) == (48.85, 20, 2)
    assert target.id == target_from_url(url).id


@pytest.mark.parametrize(
    "url",
    [
        "http://www.essonne.gouv.fr/booking/create/23014",
        "https://www.essonne.gouv.fr.evil.com/booking/create/23014",
        "https://www.essonne.gouv.fr/actualites",
        "https://www.rdv-prefecture.interieur.gouv.fr/rdvpref/autre/",
        "https://api.rendezvouspasseport.ants.gouv.fr/api/SlotsFromPosition?latitude=48",
        "https://api.rendezvouspasseport.ants.gouv.fr/api/SlotsFromPosition?longitude=2&latitude=48&radius_km=7",
        "not a url",
    ],
)
def test_recognise_refuses_when_url_is_not_an_official_booking_page(url: str) -> None:
    with pytest.raises(UrlError):
        recognise(url)
