# SPDX-License-Identifier: AGPL-3.0-or-later
"""E-mail destinations: clear errors, ASCII storage, the address kept out of reprs."""

from __future__ import annotations

import pytest

from creneau.notify.base import ConfigError
from creneau.notify.channels.email import SPEC
from creneau.notify.channels.email.config import EmailConfig


@pytest.mark.parametrize(
    ("address", "message"),
    [("camille.example.org", "must have an @-sign"), ("camille@", "There must be something after the @"),
     ("josé@example.org", "before the @"), ("a b@example.org", "not a valid email address")],
    ids=["no-at", "no-domain", "non-ascii-local", "space"],
)  # fmt: skip
def test_email_config_gives_a_clear_error_when_the_address_is_invalid(address: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message) as caught:
        SPEC.parse_config({"address": address})
    assert str(caught.value).startswith("email address: not a valid email address")


def test_email_config_stores_an_international_domain_in_ascii_when_valid() -> None:
    assert EmailConfig(address="camille@exämple.org").address == "camille@xn--exmple-cua.org"


def test_email_config_keeps_the_address_out_of_repr_when_shown() -> None:
    config = EmailConfig(address="camille.dupont@example.org")
    assert "camille.dupont" not in repr(config)
    assert config.redacted() == "c***@example.org"
