# SPDX-License-Identifier: AGPL-3.0-or-later
"""docs/notifications.md stays in step with the code: every permanent error and notification setting."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

from creneau.config import Settings
from creneau.notify.registry import kinds

DOC = (Path(__file__).resolve().parents[2] / "docs" / "notifications.md").read_text(encoding="utf-8")
NOTIFY_SETTINGS = [
    name
    for name in Settings.model_fields
    if name.startswith(("smtp_", "email_", "link_", "telegram_", "ntfy_", "notify_", "webhook_"))
]


@pytest.mark.parametrize("kind", kinds())
def test_docs_list_every_permanent_error_when_a_channel_declares_it(kind: str) -> None:
    table = importlib.import_module(f"creneau.notify.channels.{kind}.errors").PERMANENT
    missing = [entry.code for entry in table if f"`{entry.code}`" not in DOC]
    assert missing == []


def test_docs_list_every_notification_setting_when_config_declares_it() -> None:
    missing = [name for name in NOTIFY_SETTINGS if f"CRENEAU_{name.upper()}" not in DOC]
    assert NOTIFY_SETTINGS
    assert missing == []
