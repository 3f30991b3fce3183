# SPDX-License-Identifier: AGPL-3.0-or-later
"""E-mail transport: one alert → one multipart (text + HTML) message to one address, over the pool.

The Message-ID is derived from the delivery's idempotency key, so a message re-sent after a crash carries
the same Message-ID and mail clients can fold the duplicate. Every message has a one-click unsubscribe
link (RFC 8058: `List-Unsubscribe` with an https URL + `List-Unsubscribe-Post`); RFC 8058 also needs a
DKIM signature covering those headers, which is the relay's job.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import format_datetime, formataddr, parseaddr
from html import escape
from pathlib import Path
from urllib.parse import quote

import aiosmtplib

from creneau.config import Settings
from creneau.notify.base import Locale, Receipt
from creneau.notify.channels.email import LIMITS, mime
from creneau.notify.channels.email.config import EmailConfig
from creneau.notify.channels.email.errors import classify
from creneau.notify.channels.email.pool import SmtpPool
from creneau.notify.links import unsubscribe_token
from creneau.notify.message import Message
from creneau.notify.render import phrase, render_fitted, truncate

TEMPLATES = Path(__file__).resolve().parent / "templates"
MAX_SLOTS = 40
# Bodies are rendered once per event; each recipient's unsubscribe URL replaces this marker afterwards.
_UNSUBSCRIBE = "\x00unsubscribe\x00"


def smtp_pool(settings: Settings, *, clock: Callable[[], float] = time.monotonic) -> SmtpPool:
    """The pool described by the settings (host, port, security, login, size)."""
    security = settings.smtp_security

    def factory() -> aiosmtplib.SMTP:
        return aiosmtplib.SMTP(
            hostname=settings.smtp_host,
            port=settings.smtp_port,
            username=settings.smtp_username or None,
            password=settings.smtp_password.get_secret_value() or None,
            use_tls=security == "tls",
            start_tls=security == "starttls",
            timeout=settings.smtp_timeout_s,
            local_hostname=settings.smtp_local_hostname,  # avoids a blocking getfqdn() in the event loop
        )

    return SmtpPool(factory, settings.smtp_pool_size, clock=clock)


class EmailTransport:
    def __init__(self, pool: SmtpPool, settings: Settings) -> None:
        self._pool = pool
        name, self._sender = parseaddr(settings.smtp_from)
        self._from = formataddr((name, self._sender), charset="utf-8")
        self._domain = self._sender.rpartition("@")[2] or "localhost"
        self._unsubscribe = settings.email_unsubscribe_url
        self._secret = settings.link_secret.get_secret_value().encode()

    def message_id(self, message: Message) -> str:
        return f"<{message.id}@{self._domain}>"

    def unsubscribe_url(self, channel_id: str) -> str:
        token = unsubscribe_token(self._secret, channel_id)
        return self._unsubscribe.format(channel_id=quote(channel_id, safe=""), token=token)

    def build(self, message: Message, config: EmailConfig, *, locale: Locale) -> bytes:
        """The full e-mail (headers, text and HTML parts) as sent, CRLF line ends."""
        url = self.unsubscribe_url(message.channel_id)
        text, html = (
            render_fitted(
                TEMPLATES, f"body.{fmt}.j2", message, locale, max_chars=LIMITS.body_max, max_slots=MAX_SLOTS,
                unsubscribe_url=_UNSUBSCRIBE,
            )
            for fmt in ("txt", "html")
        )  # fmt: skip
        headers = [
            ("From", self._from),
            ("To", config.address),
            ("Subject", mime.encoded_word(truncate(phrase("title", message, locale), LIMITS.title_max))),
            ("Date", format_datetime(datetime.now(UTC))),
            ("Message-ID", self.message_id(message)),
            ("List-Unsubscribe", f"<{url}>"),
            ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"),
            ("Auto-Submitted", "auto-generated"),
            ("Content-Language", locale),
            ("X-Creneau-Key", message.key),
        ]
        return mime.build(
            headers, text.replace(_UNSUBSCRIBE, url), html.replace(_UNSUBSCRIBE, escape(url)), f"=_crn_{message.id.hex}"
        )

    async def send(self, message: Message, config: EmailConfig, *, locale: Locale) -> Receipt:
        """Send one e-mail; raises `TransientError` or `PermanentError` (see `errors.PERMANENT`)."""
        data = self.build(message, config, locale=locale)
        try:
            async with self._pool.connection() as client:
                _, reply = await client.sendmail(self._sender, [config.address], data)
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            raise classify(exc) from exc
        return Receipt("email", self.message_id(message), 250, {"reply": reply})

    async def close(self) -> None:
        await self._pool.close()
