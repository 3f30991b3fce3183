# SPDX-License-Identifier: AGPL-3.0-or-later
"""Fixtures of the notification tests (the builders live in `builders.py`)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from creneau.notify.message import Alert, Message

from .builders import EXPECTED, OFFICIAL, make_alert, make_notices


@pytest.fixture
def alert() -> Alert:
    return make_alert()


@pytest.fixture
def alert_factory() -> Callable[..., Alert]:
    """`alert_factory(channel_id="ch-1", count=3, **Alert.from_opening overrides)`."""
    return make_alert


@pytest.fixture
def notices() -> list[Message]:
    """The three notices (target unavailable, human check, channel disabled), to channel `ch-1`."""
    return make_notices()


@pytest.fixture
def expected() -> dict[str, list[str]]:
    """Per locale, the strings every alert body must contain."""
    return EXPECTED


@pytest.fixture
def official_url() -> str:
    return OFFICIAL
