# SPDX-License-Identifier: AGPL-3.0-or-later
"""SMTP replies that prove the mailbox is dead (the channel gets disabled), and how the rest is classed.

- a reply in `PERMANENT` (the recipient's mailbox does not exist, is not allowed, or its domain takes no
  mail) → `PermanentError` that disables the channel;
- any other 5xx about the recipient or the message → `PermanentError(disable_channel=False)`;
- 4xx, a dropped connection, a timeout, or our own relay refusing us (login, sender) → `TransientError`:
  relay trouble is the operator's to fix and must not cost anyone their channel.
"""

from __future__ import annotations

import aiosmtplib

from creneau.notify.errors import NotifyError, PermanentError, TransientError
from creneau.notify.known import KnownError, match_known

PERMANENT: tuple[KnownError, ...] = (
    KnownError("smtp.mailbox_unknown", 550, r"5\.1\.1|user unknown|unknown (user|recipient)|no such (user|mailbox)"
               r"|mailbox (unavailable|not found|does not exist)"),
    KnownError("smtp.mailbox_disabled", 550, r"5\.2\.1|(mailbox|account) (is )?disabled"),
    KnownError("smtp.bad_domain", 550, r"5\.1\.2|5\.1\.10|domain (does not exist|not found)|null mx"),
    KnownError("smtp.user_not_local", 551, r"5\.1\.6|user not local"),
    KnownError("smtp.mailbox_name_invalid", 553, r"5\.1\.3|mailbox name not allowed|invalid (mailbox|address)"),
    KnownError("smtp.null_mx", 556, r"5\.1\.10|does not accept mail"),
)  # fmt: skip

_RELAY_ERRORS = (aiosmtplib.SMTPAuthenticationError, aiosmtplib.SMTPSenderRefused, aiosmtplib.SMTPHeloError)


def classify(exc: Exception) -> NotifyError:
    """Map an aiosmtplib (or socket) exception to our error classes."""
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused) and exc.recipients:
        exc = exc.recipients[0]
    if isinstance(exc, _RELAY_ERRORS):
        return TransientError(f"SMTP relay refused us: {exc}", code="smtp.relay")
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        text = f"{exc.code} {exc.message}"
        if 400 <= exc.code < 500:
            return TransientError(text, code=f"smtp.{exc.code}")
        if known := match_known(PERMANENT, exc.code, exc.message):
            return PermanentError(text, code=known.code)
        return PermanentError(text, disable_channel=False, code=f"smtp.{exc.code}")
    if isinstance(exc, aiosmtplib.SMTPNotSupported):
        return PermanentError(str(exc), disable_channel=False, code="smtp.not_supported")
    return TransientError(f"{type(exc).__name__}: {exc}", code="smtp.connection")
