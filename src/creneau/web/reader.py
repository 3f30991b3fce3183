# SPDX-License-Identifier: AGPL-3.0-or-later
"""Read-only store work of the web app, without the event loop's driver round trips.

Through aiosqlite every statement, fetch, BEGIN and ROLLBACK is a round trip between the event loop and the
connection's thread; a page needing four queries waits for about fifteen turns of a loop that is busy
serving a hundred visitors, i.e. seconds under load although SQLite answers in a millisecond. Here `fn(conn)`
is plain synchronous SQLAlchemy on a `Connection`, run inside one read transaction (one snapshot):

- `run(fn)`, for work that takes a while (the board's rebuild, the operator view): on SQLite in a small
  thread pool with its own connections to the same file, so the loop keeps answering meanwhile;
- `quick(fn)`, for a few indexed lookups (a target's detail, about half a millisecond): on SQLite right on
  the event loop, on a connection of its own that waits at most 50 ms for a lock (WAL readers hardly ever
  wait) and otherwise hands the work to `run`. Measured at 100 closed-loop clients, this halved the p95 of
  the whole mix: a small read sent to a thread waits in two queues (the pool's, then the loop's) and for
  the GIL between rows, while inline it takes its turn like any other request;
- on PostgreSQL (and an in-memory SQLite, which another connection cannot see) both go through the store's
  own async engine (`AsyncConnection.run_sync`).

The SQLite connections are `query_only`: the web's reads can never write. WAL lets them read while the
pipeline writes.

```python
detail = await board.reader.quick(functools.partial(queries.target_detail, target_id=target_id))
```
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import QueuePool

from creneau.store import Store

T = TypeVar("T")
THREADS = 4
QUICK_BUSY_S = 0.05


class Reader:
    """See the module docstring. `close()` at shutdown (the board does it)."""

    def __init__(self, store: Store, *, threads: int = THREADS, busy_timeout_s: float = 30.0) -> None:
        self._store = store
        self._engine: Engine | None = None
        self._inline: Engine | None = None
        self._pool: ThreadPoolExecutor | None = None
        self._inline_conn: Connection | None = None
        url = store.engine.url
        if store.dialect == "sqlite" and url.database and url.database != ":memory:" and "mode=memory" not in str(url):
            sync_url = url.set(drivername="sqlite+pysqlite")
            self._engine = _sqlite_engine(sync_url, threads, busy_timeout_s)
            self._inline = _sqlite_engine(sync_url, 1, QUICK_BUSY_S)
            self._pool = ThreadPoolExecutor(threads, thread_name_prefix="creneau-web-read")

    async def run(self, fn: Callable[[Connection], T]) -> T:
        """`fn(conn)` in one read-only transaction (one consistent snapshot)."""
        if self._engine is None or self._pool is None:
            async with self._store.read() as conn:
                return await conn.run_sync(fn)
        return await asyncio.get_running_loop().run_in_executor(self._pool, self._run, fn)

    async def quick(self, fn: Callable[[Connection], T]) -> T:
        """`fn(conn)` for a few indexed lookups: inline on SQLite (see the module docstring)."""
        if self._inline is None:
            return await self.run(fn)
        try:
            return self._on(self._inline_connection(), fn)
        except OperationalError as exc:  # a lock held longer than QUICK_BUSY_S: wait for it off the loop
            if "locked" not in str(exc) and "busy" not in str(exc):
                raise
            return await self.run(fn)

    def _run(self, fn: Callable[[Connection], T]) -> T:
        assert self._engine is not None
        with self._engine.connect() as conn:
            return self._on(conn, fn)

    @staticmethod
    def _on(conn: Connection, fn: Callable[[Connection], T]) -> T:
        try:
            return fn(conn)
        finally:
            conn.rollback()

    def _inline_connection(self) -> Connection:
        """The loop's own connection, kept open: only the loop's thread uses it, one read at a time, and a
        pool checkout per page cost as much as one of its queries."""
        assert self._inline is not None
        if self._inline_conn is None or self._inline_conn.closed:
            self._inline_conn = self._inline.connect()
        return self._inline_conn

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
        if self._inline_conn is not None:
            self._inline_conn.close()
            self._inline_conn = None
        for engine in (self._engine, self._inline):
            if engine is not None:
                engine.dispose()


def _sqlite_engine(url: Any, threads: int, busy_timeout_s: float) -> Engine:
    engine = create_engine(
        url, poolclass=QueuePool, pool_size=threads, max_overflow=0, connect_args={"check_same_thread": False}
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # SQLAlchemy's "begin" event below emits BEGIN
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {int(busy_timeout_s * 1000)}")
            cursor.execute("PRAGMA query_only = ON")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        conn.connection.driver_connection.execute("BEGIN")  # type: ignore[union-attr]  # straight to sqlite3

    return engine
