# SPDX-License-Identifier: AGPL-3.0-or-later
"""Statement builders shared by the repositories: dialect-aware inserts and the atomic claim."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Table, Update, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection


def insert_for(conn: AsyncConnection, table: Table) -> Any:
    """`INSERT` with `on_conflict_do_nothing` / `on_conflict_do_update` for the connection's dialect.

    Typed `Any` because the two dialects' Insert classes share the API but not a base class.
    """
    if conn.dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


def claim_statement(
    table: Table,
    *,
    due: ColumnElement[bool],
    order_by: Sequence[ColumnElement[Any]],
    limit: int,
    values: dict[str, Any],
) -> Update:
    """`UPDATE table SET values WHERE id IN (the first `limit` due rows) RETURNING *`, atomically.

    PostgreSQL: the candidate rows are picked in a MATERIALIZED CTE with `FOR UPDATE SKIP LOCKED`, so
    concurrent claimers (other connections, other machines) skip rows somebody is claiming and never
    block each other; a row claimed and committed meanwhile fails the re-checked `due` condition.
    SQLite: the caller runs it inside `BEGIN IMMEDIATE`, so only one writer claims at a time.
    The picked rows are locked (PostgreSQL) or nobody else writes (SQLite), so the UPDATE needs no second
    look at `due`: repeating it made PostgreSQL scan every due row again.
    RETURNING has no order: callers sort.
    """
    picked = (
        select(table.c.id)
        .where(due)
        .order_by(*order_by)
        .limit(limit)
        .with_for_update(skip_locked=True)
        .cte("picked")
        .prefix_with("MATERIALIZED", dialect="postgresql")
    )
    return update(table).where(table.c.id.in_(select(picked.c.id))).values(**values).returning(*table.c)
