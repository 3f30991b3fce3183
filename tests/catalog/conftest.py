# SPDX-License-Identifier: AGPL-3.0-or-later
"""The shipped catalog (loaded once per session: it is read-only) and a per-test data_dir for overlays."""

from __future__ import annotations

from pathlib import Path

import pytest

from creneau.catalog.core import Catalog, load_catalog
from creneau.catalog.resolver import Resolver


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    return load_catalog()


@pytest.fixture(scope="session")
def resolver(catalog: Catalog) -> Resolver:
    return Resolver(catalog)


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "var"
    monkeypatch.setenv("CRENEAU_DATA_DIR", str(folder))
    return folder
