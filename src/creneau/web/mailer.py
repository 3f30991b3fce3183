# SPDX-License-Identifier: AGPL-3.0-or-later
"""The web app's own e-mails (sign-in links), sent over the notification channel's SMTP pool and settings.

`Mailer` is a protocol so tests and the demo can pass their own; `SmtpMailer` is the real one. A failure
to hand the message to the relay raises `MailError`: the page then says to try again later.
"""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import formataddr, make_msgid, parseaddr
from typing import Protocol

import aiosmtplib

from creneau.config import Settings
from creneau.notify.channels.email.pool import SmtpPool
from creneau.web.i18n import _


class MailError(Exception):
    """The relay did not take the message."""


class Mailer(Protocol):
    async def send_sign_in(self, to: str, url: str, *, minutes: int) -> None: ...

    async def send(self, message: EmailMessage, to: str) -> None:
        """Send a message another page built (e.g. an e-mail channel's verification link)."""

    async def close(self) -> None: ...


def plain_message(sender: str, to: str, subject: str, paragraphs: tuple[str, ...]) -> EmailMessage:
    """A plain-text, auto-generated e-mail from the instance (paragraphs already in the reader's language)."""
    name, address = parseaddr(sender)
    message = EmailMessage()
    message["From"] = formataddr((name, address))
    message["To"] = to
    message["Subject"] = subject
    message["Message-ID"] = make_msgid(domain=address.rpartition("@")[2] or "localhost")
    message["Auto-Submitted"] = "auto-generated"
    message.set_content("\n\n".join(paragraphs) + "\n", charset="utf-8")
    return message


def sign_in_message(sender: str, to: str, url: str, *, minutes: int) -> EmailMessage:
    """The sign-in e-mail in the current request's language (plain text: a link and what it is for)."""
    return plain_message(
        sender,
        to,
        _("Your creneau sign-in link"),
        (
            _("Hello,"),
            _("To sign in to creneau, open this link and press “Sign in”:"),
            url,
            _("The link works once, for %(minutes)s minutes.", minutes=minutes),
            _("If you did not ask for it, ignore this e-mail: nothing happens without that click."),
            _("creneau only sends notifications. Appointments are free on the official sites: never pay anyone."),
        ),
    )


class SmtpMailer:
    """Sends through a small SMTP pool built from the same `CRENEAU_SMTP_*` settings as alert e-mails."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._pool: SmtpPool | None = None

    def _get_pool(self) -> SmtpPool:
        if self._pool is None:
            from creneau.notify.channels.email.transport import smtp_pool

            self._pool = smtp_pool(self._settings.model_copy(update={"smtp_pool_size": 1}))
        return self._pool

    async def send_sign_in(self, to: str, url: str, *, minutes: int) -> None:
        await self.send(sign_in_message(self._settings.smtp_from, to, url, minutes=minutes), to)

    async def send(self, message: EmailMessage, to: str) -> None:
        sender = parseaddr(self._settings.smtp_from)[1]
        try:
            async with self._get_pool().connection() as client:
                await client.send_message(message, sender=sender, recipients=[to])
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            raise MailError(str(exc)) from exc

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()
