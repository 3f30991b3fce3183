# SPDX-License-Identifier: AGPL-3.0-or-later
"""Engine set-up and the `Store`: one object owning the engine, the sessions, the wake-ups and the repositories.

SQLite (embedded default): WAL, `synchronous=NORMAL`, a `busy_timeout`, foreign keys on, and every write
transaction starts with `BEGIN IMMEDIATE`, so a transaction that will write takes the write lock up front and
waits for it under `busy_timeout` (a DEFERRED one that later needs to write fails at once with "database is
locked", whatever the timeout). Read-only transactions (`Store.read()`) use a plain deferred `BEGIN`.

PostgreSQL (distributed mode): `postgresql+psycopg://` (psycopg 3, async), READ COMMITTED, claims with
`FOR UPDATE SKIP LOCKED`, wake-ups through LISTEN/NOTIFY.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import URL, event, func, make_url, select, text
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry

from creneau.store import migrate
from creneau.store.errors import UnsupportedDatabase
from creneau.store.wakeup import Subscription, Wakeups

READ_ONLY = "creneau_read_only"
"""Execution option: the transaction only reads (SQLite then begins DEFERRED instead of IMMEDIATE)."""


def normalise_url(url: str | URL) -> URL:
    """Pick the async driver the store runs on; raise UnsupportedDatabase for any other engine."""
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        if parsed.drivername not in ("sqlite", "sqlite+aiosqlite"):
            raise UnsupportedDatabase(f"SQLite runs through aiosqlite, not {parsed.drivername!r}")
        return parsed.set(drivername="sqlite+aiosqlite")
    if backend in ("postgresql", "postgres"):
        if parsed.drivername not in ("postgresql", "postgres", "postgresql+psycopg"):
            raise UnsupportedDatabase(
                f"PostgreSQL runs through psycopg 3 (postgresql+psycopg://), not {parsed.drivername!r}"
            )
        return parsed.set(drivername="postgresql+psycopg")
    raise UnsupportedDatabase(f"unsupported database {backend!r}: use sqlite+aiosqlite:// or postgresql+psycopg://")


def create_engine_for(
    url: str | URL, *, busy_timeout_s: float = 30.0, pool_size: int = 5, echo: bool = False
) -> AsyncEngine:
    """An async engine for `url`, configured as the module docstring says.

    A SQLite file's folder is created if missing. Raises UnsupportedDatabase for other engines.
    """
    parsed = normalise_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        if database and database != ":memory:" and not database.startswith("file:"):
            Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(parsed, echo=echo)
        _configure_sqlite(engine, busy_timeout_ms=int(busy_timeout_s * 1000))
        return engine
    return create_async_engine(
        parsed,
        echo=echo,
        pool_size=pool_size,
        max_overflow=pool_size * 2,
        pool_pre_ping=True,
        connect_args={"application_name": "creneau"},
    )


def _configure_sqlite(engine: AsyncEngine, *, busy_timeout_ms: int) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: DBAPIConnection, _record: ConnectionPoolEntry) -> None:
        # Take BEGIN away from the sqlite3 module: SQLAlchemy's "begin" event below emits it instead.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {busy_timeout_ms}")
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA synchronous = NORMAL")
            cursor.execute("PRAGMA foreign_keys = ON")
        finally:
            cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        read_only = conn.get_execution_options().get(READ_ONLY, False)
        conn.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


@dataclass(slots=True)
class Tx:
    """A write transaction in progress: the connection, and the wake-ups to send once it commits."""

    conn: AsyncConnection
    wakes: set[str] = field(default_factory=set)
    analyze: set[str] = field(default_factory=set)
    """PostgreSQL tables to ANALYZE once committed (after a burst large enough to mislead the planner)."""

    @property
    def is_postgres(self) -> bool:
        return self.conn.dialect.name == "postgresql"

    async def wake(self, channel: str) -> None:
        """Wake `channel`'s waiters when this transaction commits (never if it rolls back)."""
        if channel in self.wakes:
            return
        self.wakes.add(channel)
        if self.is_postgres:
            await self.conn.execute(select(func.pg_notify(channel, "")))


class Store:
    """The durable heart of the pipeline. Build it with `await Store.open(url)`; `await close()` at the end.

    Repositories: `targets`, `observations`, `openings`, `outbox`, `subscribers`, `captcha`. All take `now`
    from the caller (the clock is the caller's), and return frozen records, never ORM objects.
    """

    def __init__(self, engine: AsyncEngine) -> None:
        from creneau.store.captcha import CaptchaRepo
        from creneau.store.observations import ObservationRepo
        from creneau.store.openings import OpeningRepo
        from creneau.store.outbox import OutboxRepo
        from creneau.store.subscribers import SubscriberRepo
        from creneau.store.targets import TargetRepo

        self.engine = engine
        self.dialect = engine.dialect.name
        self.sessions = async_sessionmaker(engine, expire_on_commit=False)
        """ORM sessions for the web app; each transaction begins IMMEDIATE on SQLite (it may write)."""
        self._read_engine = engine.execution_options(**{READ_ONLY: True})
        conninfo = None
        if self.is_postgres:
            conninfo = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        self.wakeups = Wakeups(conninfo)
        self._write_lock = asyncio.Lock() if self.dialect == "sqlite" else None
        self.targets = TargetRepo(self)
        self.observations = ObservationRepo(self)
        self.openings = OpeningRepo(self)
        self.outbox = OutboxRepo(self)
        self.subscribers = SubscriberRepo(self)
        self.captcha = CaptchaRepo(self)

    @classmethod
    async def open(cls, url: str | URL, *, migrate_to: str | None = "head", **engine_options: Any) -> Store:
        """Create the engine and bring the schema to `migrate_to` (None: leave the schema alone)."""
        engine = create_engine_for(url, **engine_options)
        try:
            if migrate_to is not None:
                await migrate.upgrade(engine, migrate_to)
        except BaseException:
            await engine.dispose()
            raise
        return cls(engine)

    @property
    def is_postgres(self) -> bool:
        return self.dialect == "postgresql"

    async def close(self) -> None:
        await self.wakeups.close()
        await self.engine.dispose()

    @asynccontextmanager
    async def write(self) -> AsyncIterator[Tx]:
        """A write transaction (BEGIN IMMEDIATE on SQLite); commits on exit, rolls back on error.

        On SQLite the process's writers also queue on an asyncio lock: SQLite admits one writer at a time
        anyway, and waiting here costs nothing while waiting in `busy_timeout` means sleep-and-retry
        (up to 100 ms a round). Other processes are still kept out by the file lock.
        """
        async with self._writer(), self.engine.begin() as conn:
            tx = Tx(conn)
            yield tx
        for channel in tx.wakes:
            self.wakeups.fire_local(channel)
        if tx.analyze and self.is_postgres:
            # Fresh statistics right after a fan-out burst: with stale ones the planner sorts every waiting
            # delivery at each claim instead of walking the fair-order index (40 ms instead of 0.2 ms).
            async with self.engine.connect() as conn:
                auto = await conn.execution_options(isolation_level="AUTOCOMMIT")
                for table in sorted(tx.analyze):
                    await auto.execute(text(f"ANALYZE {table}"))

    @asynccontextmanager
    async def _writer(self) -> AsyncIterator[None]:
        if self._write_lock is None:
            yield
            return
        async with self._write_lock:
            yield

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncConnection]:
        """A read-only transaction: one consistent snapshot, no write lock on SQLite."""
        async with self._read_engine.connect() as conn, conn.begin():
            yield conn

    def session(self) -> AsyncSession:
        return self.sessions()

    async def subscribe(self, channel: str) -> Subscription:
        """Wake-ups for `channel` (see `creneau.store.wakeup`); close the subscription when done."""
        return await self.wakeups.subscribe(channel)

    async def notify(self, channel: str) -> None:
        """Wake `channel`'s waiters in every process now (outside any transaction of the caller)."""
        if not self.is_postgres:
            self.wakeups.fire_local(channel)
            return
        async with self.write() as tx:
            await tx.wake(channel)
