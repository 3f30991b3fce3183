# SPDX-License-Identifier: AGPL-3.0-or-later
"""E-mail destinations: clear errors, ASCII storage, the address kept out of reprs."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from creneau.notify.base import ConfigError
from creneau.notify.channels.email import SPEC
from creneau.notify.channels.email.config import EmailConfig, checked_address, full_check


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


SHORTCUT_CASES = [
    "a@b.org", "A.B@Example.ORG", "a..b@x.org", ".a@x.org", "a.@x.org", "a@x", "a@localhost", "a@x.test",
    "a@x.invalid", "a+tag@gmail.com", "o'neil@x.fr", '"q"@x.org', "a@[1.2.3.4]", "a@xn--bcher-kva.ch",
    "a@bücher.ch", "ü@x.org", "a@-x.org", "a@x..org", "a b@x.org", "a@x.org.", "a@x.123", "x" * 65 + "@x.org",
    "a@" + "x" * 250 + ".org", "a@x_y.org", "A@X.ORG", "a@x.onion",
]  # fmt: skip


@pytest.mark.parametrize("address", SHORTCUT_CASES)
def test_email_address_check_gives_email_validator_answer_when_taking_the_stored_form_shortcut(address: str) -> None:
    def answer(check: Callable[[str], str]) -> str:
        try:
            return check(address)
        except ValueError as exc:
            return f"refused: {exc}"

    assert answer(checked_address) == answer(full_check)
