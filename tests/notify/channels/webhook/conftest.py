# SPDX-License-Identifier: AGPL-3.0-or-later
from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence

import aiohttp
import pytest
from aiohttp.abc import AbstractResolver, ResolveResult

from creneau.config import load_settings
from creneau.notify.channels.webhook.config import WebhookConfig
from creneau.notify.channels.webhook.guard import guarded_session
from creneau.notify.channels.webhook.transport import WebhookTransport
from creneau.notify.fakes.webhook import WebhookSink

SECRET = "whsec-0123456789abcdef"


class StaticResolver(AbstractResolver):
    """DNS for the tests: each name answers the next list of addresses of its script (the last repeats)."""

    def __init__(self, names: Mapping[str, Sequence[Sequence[str]]]) -> None:
        self._answers: dict[str, Iterator[Sequence[str]]] = {}
        self._names = names
        self.asked: list[str] = []

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        self.asked.append(host)
        if host not in self._names:
            raise OSError(f"no such host {host}")
        script = self._names[host]
        answer = script[min(self.asked.count(host), len(script)) - 1]
        return [
            {"hostname": host, "host": a, "port": port, "family": socket.AF_INET6 if ":" in a else socket.AF_INET,
             "proto": 0, "flags": socket.AI_NUMERICHOST}
            for a in answer
        ]  # fmt: skip

    async def close(self) -> None:
        return None


@pytest.fixture
async def sink() -> AsyncIterator[WebhookSink]:
    async with WebhookSink(SECRET) as server:
        yield server


@pytest.fixture
def config(sink: WebhookSink) -> WebhookConfig:
    return WebhookConfig(url=sink.endpoint("/hook"), secret=SECRET)


def make_transport(
    *, allow_private: bool, resolver: AbstractResolver | None = None, timeout_s: float = 5.0
) -> WebhookTransport:
    settings = load_settings(webhook_allow_private=allow_private, notify_timeout_s=timeout_s)
    session = guarded_session(allow_private=allow_private, user_agent="creneau-tests", resolver=resolver)
    return WebhookTransport(session, settings, owns_session=True)


@pytest.fixture
async def transport() -> AsyncIterator[WebhookTransport]:
    """Private destinations allowed: the sink listens on 127.0.0.1 (as in the demo)."""
    transport = make_transport(allow_private=True)
    yield transport
    await transport.close()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session
