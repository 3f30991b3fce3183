# SPDX-License-Identifier: AGPL-3.0-or-later
"""ntfy destinations: clear errors, and the access token never shown."""

from __future__ import annotations

from typing import Any

import pytest

from creneau.notify.base import ConfigError
from creneau.notify.channels.ntfy import SPEC
from creneau.notify.channels.ntfy.config import NtfyConfig


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"topic": "has space"}, "invalid ntfy topic"),
        ({"topic": "x" * 65}, "invalid ntfy topic"),
        ({"topic": "ok", "server": "ftp://ntfy.sh"}, "invalid ntfy server"),
        ({"topic": "ok", "server": "https://user:pw@ntfy.sh"}, "must not carry credentials"),
        ({"topic": "ok", "priority": 9}, "less than or equal to 5"),
    ],
    ids=["space", "too-long", "scheme", "credentials", "priority"],
)
def test_ntfy_config_gives_a_clear_error_when_invalid(data: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        SPEC.parse_config(data)


def test_ntfy_config_hides_the_token_when_shown() -> None:
    config = NtfyConfig(topic="camille-8f3k2", server="https://ntfy.example.org/", token="tk_very_secret")

    assert "tk_very_secret" not in repr(config)
    assert "tk_very_secret" not in str(config)
    assert "tk_very_secret" not in config.redacted()
    assert "tk_very_secret" not in config.model_dump_json()
    assert config.server == "https://ntfy.example.org"
