# SPDX-License-Identifier: AGPL-3.0-or-later
"""Fixtures of the browser tests: Debian's Chromium (the tests skip with the reason without it) and the
shipped catalog (loaded once)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from playwright.async_api import Browser

from creneau.catalog.core import Catalog, load_catalog

from .stack import chromium, skip_without_chromium


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    skip_without_chromium()
    async with chromium() as launched:
        yield launched


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    return load_catalog()
