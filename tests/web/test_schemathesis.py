# SPDX-License-Identifier: AGPL-3.0-or-later
"""Property-based tests of the public API against its own OpenAPI schema (schemathesis), over real HTTP.

The app runs under uvicorn on a free port in a thread of its own (its own event loop, its own store on a
seeded SQLite file); schemathesis generates requests, valid and invalid, and checks that none gets a 500
and that every documented answer matches its schema.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance, status_code_conformance

from creneau.catalog.core import load_catalog
from creneau.config import Settings
from creneau.store import Store
from creneau.types import Observation, Outcome
from creneau.web import create_app
from creneau.web.server import WebServer


async def _seed(settings: Settings) -> None:
    store = await Store.open(settings.resolved_database_url())
    try:
        now = datetime.now(UTC)
        await store.targets.upsert_many(load_catalog().watch_targets(), now=now)
        await store.observations.record(Observation("rdvpref-3762", now, Outcome.NO_SLOTS, "test"), now=now)
    finally:
        await store.close()


class _Background:
    """uvicorn serving the app in a thread with its own event loop."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.url = ""
        self._ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._main, name="web-under-test", daemon=True)

    def _main(self) -> None:
        try:
            asyncio.run(self._serve())
        except BaseException as exc:  # noqa: BLE001 - reported to the test thread
            self._error = exc
            self._ready.set()

    async def _serve(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        async with WebServer(create_app(self.settings), "127.0.0.1", 0) as server:
            self.url = server.url
            self._ready.set()
            await self._stop.wait()

    def __enter__(self) -> str:
        self._thread.start()
        assert self._ready.wait(30), "the web server did not start"
        if self._error is not None:
            raise self._error
        return self.url

    def __exit__(self, *exc: object) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(30)


@pytest.fixture(scope="module")
def api_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder: Path = tmp_path_factory.mktemp("schemathesis")
    config = Settings(data_dir=folder, web_secret="s" * 40, web_board_refresh_s=3600)
    asyncio.run(_seed(config))
    with _Background(config) as url:
        yield url


@pytest.fixture(scope="module")
def api_schema(api_url: str) -> schemathesis.BaseSchema:
    return schemathesis.openapi.from_url(f"{api_url}/api/openapi.json")


CHECKS = [not_a_server_error, status_code_conformance, response_schema_conformance]


def test_api_answers_every_generated_request_without_server_error(api_schema: schemathesis.BaseSchema) -> None:
    # The schemathesis pytest plugin's lazy fixture does not run on pytest 9 yet: drive hypothesis directly.
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) == 8
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def check(case: schemathesis.Case) -> None:
            case.call_and_validate(checks=CHECKS)

        check()
