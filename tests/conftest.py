# SPDX-License-Identifier: AGPL-3.0-or-later
"""Shared test fixtures: paths to the real captures and a UTC reference time."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.fixture
def t0() -> datetime:
    """A Monday morning in Paris (08:00 local), the reference instant of time-driven tests."""
    return datetime(2026, 5, 4, 6, 0, tzinfo=UTC)
