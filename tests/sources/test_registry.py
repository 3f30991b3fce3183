# SPDX-License-Identifier: AGPL-3.0-or-later
"""Every registered adapter declares itself correctly and ships replay tests with recorded fixtures."""

from __future__ import annotations

from pathlib import Path

import pytest

from creneau.sources.base import ADAPTER_MODULES, adapter_for, detect_system
from creneau.sources.errors import ErrorKind, SourceError
from creneau.types import System

TESTS = Path(__file__).parent
SYSTEMS = sorted(ADAPTER_MODULES, key=str)


@pytest.mark.parametrize("system", SYSTEMS, ids=str)
def test_registry_adapter_has_replay_tests_and_fixtures(system: System) -> None:
    folder = TESTS / ADAPTER_MODULES[system].rpartition(".")[2]
    fixtures = folder / "fixtures"
    recorded = [p for p in fixtures.glob("*") if p.is_file() and p.suffix in (".html", ".htm", ".json")]
    assert recorded, f"{system}: no recorded pages in {fixtures.relative_to(TESTS.parent)}"
    assert list(folder.glob("test_*.py")), f"{system}: no tests in {folder.relative_to(TESTS.parent)}"


@pytest.mark.parametrize("system", SYSTEMS, ids=str)
def test_registry_adapter_declares_its_system(system: System) -> None:
    adapter = adapter_for(system)
    assert adapter.system is system
    for name in ("matches", "target_from_url", "parse", "check"):
        assert callable(getattr(adapter, name)), f"{system}: ADAPTER.{name} missing"


@pytest.mark.parametrize(
    ("url", "system"),
    [
        pytest.param(
            "https://www.rdv-prefecture.interieur.gouv.fr/rdvpref/reservation/demarche/4321/",
            System.RDVPREF,
            id="rdvpref",
        ),
        pytest.param("https://pprdv.interieur.gouv.fr/booking/create/989/0", System.LEGACY, id="legacy"),
        pytest.param(
            "https://api.rendezvouspasseport.ants.gouv.fr/api/SlotsFromPosition?longitude=2.35&latitude=48.85",
            System.ANTS,
            id="ants",
        ),
    ],
)
def test_detect_system_finds_the_one_adapter_when_url_is_official(url: str, system: System) -> None:
    assert detect_system(url) is system
    assert [s for s in SYSTEMS if adapter_for(s).matches(url)] == [system]


def test_detect_system_refuses_a_url_no_adapter_knows() -> None:
    with pytest.raises(SourceError) as caught:
        detect_system("https://www.doctolib.fr/")
    assert caught.value.kind is ErrorKind.BAD_INPUT
