# SPDX-License-Identifier: AGPL-3.0-or-later
"""Fixtures for the simulator's tests: a fake clock and a factory that starts the server on a real port."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime

import pytest

from creneau.sim.clock import ManualClock
from creneau.sim.model import World
from creneau.sim.server import SimServer
from creneau.sources.http import Http


@pytest.fixture
def clock(t0: datetime) -> ManualClock:
    return ManualClock(t0)


@pytest.fixture
async def serve(clock: ManualClock) -> AsyncIterator[Callable[..., Awaitable[SimServer]]]:
    """`await serve(world, test_hooks=True)`: the simulator on 127.0.0.1:<free port>, stopped after the test."""
    servers: list[SimServer] = []

    async def start(world: World, *, test_hooks: bool = True) -> SimServer:
        server = SimServer(world, clock, test_hooks=test_hooks)
        await server.start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        await server.stop()


@pytest.fixture
async def http_for() -> AsyncIterator[Callable[..., Http]]:
    """`http_for(server)`: our real HTTP client, sending official URLs to that server."""
    clients: list[Http] = []

    def make(server: SimServer, *, timeout_s: float = 10.0) -> Http:
        client = Http(user_agent="creneau-tests", timeout_s=timeout_s, route_overrides=server.route_overrides)
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.close()
