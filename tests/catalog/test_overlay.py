# SPDX-License-Identifier: AGPL-3.0-or-later
from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from creneau.catalog.core import Catalog, load_catalog
from creneau.catalog.model import Origin
from creneau.catalog.overlay import OverlayError, add_target, overlay_path, remove_target

URL = "https://www.rdv-prefecture.interieur.gouv.fr/rdvpref/reservation/demarche/777001/"
DAY = date(2026, 11, 23)


def test_add_target_merges_into_catalog_when_valid(catalog: Catalog, data_dir: Path) -> None:
    item = add_target(catalog, data_dir, URL, "pref-38", "sejour.renewal", today=DAY)
    merged = load_catalog(data_dir)
    assert merged.targets[item.id].origin is Origin.LOCAL
    assert merged.targets[item.id].target.office_id == "pref-38"
    assert merged.targets[item.id].last_verified == DAY
    assert item.id not in load_catalog().targets


@pytest.mark.parametrize(
    ("url", "office", "demarche", "message"),
    [
        ("https://evil.example/booking/create/1", "pref-38", "sejour.renewal", "official"),
        (URL, "pref-999", "sejour.renewal", "unknown office"),
        (URL, "pref-38", "sejour.nothing", "unknown démarche"),
        (
            "https://www.rdv-prefecture.interieur.gouv.fr/rdvpref/reservation/demarche/16040/",
            "pref-94",
            "sejour.collection",
            "already target rdvpref-16040",
        ),
    ],
    ids=["not-official", "unknown-office", "unknown-demarche", "duplicate"],
)
def test_add_target_writes_nothing_when_refused(
    catalog: Catalog, data_dir: Path, url: str, office: str, demarche: str, message: str
) -> None:
    with pytest.raises(OverlayError, match=message):
        add_target(catalog, data_dir, url, office, demarche, today=DAY)
    assert not overlay_path(data_dir).exists()


def test_add_target_refuses_when_added_twice(catalog: Catalog, data_dir: Path) -> None:
    add_target(catalog, data_dir, URL, "pref-38", "sejour.renewal", today=DAY)
    before = overlay_path(data_dir).read_bytes()
    with pytest.raises(OverlayError, match="already target"):
        add_target(load_catalog(data_dir), data_dir, URL + "cgu/", "pref-38", "sejour.renewal", today=DAY)
    assert overlay_path(data_dir).read_bytes() == before


def test_remove_target_drops_local_target_when_present(catalog: Catalog, data_dir: Path) -> None:
    item = add_target(catalog, data_dir, URL, "pref-38", "sejour.renewal", today=DAY)
    remove_target(load_catalog(data_dir), data_dir, item.id)
    assert item.id not in load_catalog(data_dir).targets


def test_remove_target_refuses_when_target_ships_with_creneau(catalog: Catalog, data_dir: Path) -> None:
    with pytest.raises(OverlayError, match="ships with creneau"):
        remove_target(catalog, data_dir, "rdvpref-16040")
