# SPDX-License-Identifier: AGPL-3.0-or-later
"""An e-mail destination: one address, checked by email-validator (syntax only, no DNS lookup).

Stored in its ASCII form (an internationalised domain becomes punycode). Non-ASCII characters before the
`@` would need SMTPUTF8 on every relay on the way, so they are refused with a clear message.
"""

from __future__ import annotations

from email_validator import EmailNotValidError, validate_email
from pydantic import Field, field_validator

from creneau.notify.base import DestinationConfig


class EmailConfig(DestinationConfig):
    address: str = Field(repr=False, description="The mailbox alerts are sent to.")

    @field_validator("address")
    @classmethod
    def _address(cls, value: str) -> str:
        try:
            checked = validate_email(value, check_deliverability=False, allow_smtputf8=False)
        except EmailNotValidError as exc:
            raise ValueError(f"not a valid email address: {exc}") from None
        return checked.ascii_email or checked.normalized

    def destination_key(self) -> str:
        return "email:" + self.address.lower()

    def redacted(self) -> str:
        local, _, domain = self.address.rpartition("@")
        return f"{local[:1]}***@{domain}"
