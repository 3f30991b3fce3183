# SPDX-License-Identifier: AGPL-3.0-or-later
from __future__ import annotations

import pytest

from creneau.config import Settings, SettingsError, load_settings


def test_settings_user_agent_names_creneau_and_contact() -> None:
    settings = load_settings(operator_contact="ops@example.org")
    ua = settings.resolved_user_agent()
    assert ua.startswith("creneau/")
    assert "ops@example.org" in ua


def test_settings_bad_value_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CRENEAU_LOG_LEVEL", "LOUD")
    with pytest.raises(SettingsError, match="CRENEAU_LOG_LEVEL"):
        load_settings()


def test_settings_every_field_has_a_description() -> None:
    missing = [name for name, f in Settings.model_fields.items() if not f.description]
    assert missing == []


def test_settings_doc_lists_every_setting_as_the_code_defines_it() -> None:
    from pathlib import Path

    from creneau.config import settings_markdown

    doc = Path(__file__).resolve().parents[1] / "docs" / "settings.md"
    assert doc.read_text(encoding="utf-8") == settings_markdown(), (
        "docs/settings.md is stale: regenerate it with "
        "python -c 'from creneau.config import settings_markdown as m; print(m(), end=\"\")' > docs/settings.md"
    )
