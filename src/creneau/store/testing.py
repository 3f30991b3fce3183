# SPDX-License-Identifier: AGPL-3.0-or-later
"""Helpers for tests that need a store on both engines (used by tests/store and the pipeline tests).

PostgreSQL: the server on 127.0.0.1:5432 with trust auth, database `test`, user `postgres` or `root`
(or `CRENEAU_TEST_POSTGRES_URL`). Each test module gets its own schema, dropped afterwards, so runs
never see each other's rows. Nothing here is imported by the service itself.
"""

from __future__ import annotations

import functools
import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from psycopg import sql
from sqlalchemy import delete, make_url

from creneau.store.engine import Store
from creneau.store.models import Base

ENV_URL = "CRENEAU_TEST_POSTGRES_URL"
_CANDIDATES = ("postgres", "root")


@functools.lru_cache(maxsize=1)
def postgres_base_url() -> tuple[str | None, str]:
    """(URL of a reachable PostgreSQL, "") or (None, why not). Tried once per process."""
    explicit = os.environ.get(ENV_URL)
    candidates = [explicit] if explicit else [f"postgresql+psycopg://{u}@127.0.0.1:5432/test" for u in _CANDIDATES]
    errors = []
    for url in candidates:
        try:
            with psycopg.connect(_conninfo(url), connect_timeout=3) as conn:
                conn.execute("SELECT 1")
            return url, ""
        except psycopg.Error as exc:
            errors.append(f"{make_url(url).render_as_string(hide_password=True)}: {str(exc).strip()}")
    return None, "PostgreSQL not reachable (" + "; ".join(errors) + ")"


def _conninfo(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@contextmanager
def temp_pg_schema(base_url: str) -> Iterator[str]:
    """A fresh, empty schema; yields a store URL whose connections use it; drops it afterwards."""
    schema = f"creneau_test_{secrets.token_hex(6)}"
    with psycopg.connect(_conninfo(base_url), autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
    url = make_url(base_url).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with psycopg.connect(_conninfo(base_url), autocommit=True) as conn:
            conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(schema)))


@contextmanager
def pg_schema_or_skip() -> Iterator[str]:
    """`temp_pg_schema` on the reachable server; skips the calling test, with the reason, when there is none."""
    base, reason = postgres_base_url()
    if base is None:
        import pytest  # only tests call this

        pytest.skip(reason)
    with temp_pg_schema(base) as url:
        yield url


async def reset(store: Store) -> None:
    """Delete every row of every table (the schema stays), children first."""
    async with store.write() as tx:
        for table in reversed(Base.metadata.sorted_tables):
            await tx.conn.execute(delete(table))
