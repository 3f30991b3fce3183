# SPDX-License-Identifier: AGPL-3.0-or-later
"""An SMTP sink: aiosmtpd's SMTP protocol served through `loop.create_server(port=0)`.

(aiosmtpd's `Controller(port=0)` cannot work: it connects to the configured port to check readiness.)
Keeps every accepted message, parsed. `reject` maps an address to the reply its RCPT gets (e.g.
`(550, "5.1.1 User unknown")`); `data_replies` queues replies for the next DATA commands (e.g. a 451);
`drop_connections()` closes every open session, as a server timing out idle clients does.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import functools
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any, Self

from aiosmtpd.smtp import SMTP

from creneau.notify.fakes.server import Inbox, Served


@dataclass(frozen=True)
class ReceivedMail:
    """One accepted message; `message` parses `data` on first use (parsing every message would slow a
    fan-out benchmark that runs the sink in the same process)."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    data: bytes

    @functools.cached_property
    def message(self) -> EmailMessage:
        parsed = email.message_from_bytes(self.data, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed


class _Handler:
    def __init__(self, sink: SmtpSink) -> None:
        self.sink = sink

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        if reply := self.sink.reject.get(address.lower()):
            return f"{reply[0]} {reply[1]}"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.sink.data_replies:
            code, text = self.sink.data_replies.pop(0)
            return f"{code} {text}"
        return await self.sink.record(envelope.mail_from, envelope.rcpt_tos, envelope.original_content or b"")


class SmtpSink(Served):
    def __init__(self, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self.host = host
        self.port = port
        self.messages: Inbox[ReceivedMail] = Inbox()
        self.reject: dict[str, tuple[int, str]] = {}
        self.data_replies: list[tuple[int, str]] = []
        self.sessions = 0
        self._protocols: list[SMTP] = []
        self._server: asyncio.Server | None = None

    async def record(self, mail_from: str, rcpt_tos: list[str], data: bytes) -> str:
        await self.messages.put(ReceivedMail(mail_from, tuple(rcpt_tos), data))
        return f"250 2.0.0 Ok: queued as Q{len(self.messages)}"

    def _protocol(self) -> SMTP:
        self.sessions += 1
        loop = asyncio.get_running_loop()
        protocol = SMTP(_Handler(self), hostname="sink.creneau.test", loop=loop, enable_SMTPUTF8=True)
        self._protocols.append(protocol)
        return protocol

    def drop_connections(self) -> None:
        for protocol in self._protocols:
            if protocol.transport is not None:
                protocol.transport.close()
        self._protocols.clear()

    async def start(self) -> Self:
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(self._protocol, self.host, self.port)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def close(self) -> None:
        self.drop_connections()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
