# SPDX-License-Identifier: AGPL-3.0-or-later
"""Every store test runs on SQLite (a copy of a migrated file) and on PostgreSQL (a schema of its own per
test module, dropped afterwards; skipped with the reason when no server is reachable): the fixtures are
the pipeline kit's, shared with the bot, web and pipeline tests."""

from __future__ import annotations

from datetime import datetime

import pytest
from tests.pipeline_kit import BACKENDS, db_url, migrated_sqlite, pg_url, store

__all__ = ["BACKENDS", "db_url", "migrated_sqlite", "pg_url", "store"]


@pytest.fixture
def now(t0: datetime) -> datetime:
    return t0
