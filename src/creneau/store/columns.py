# SPDX-License-Identifier: AGPL-3.0-or-later
"""Column types shared by the models and the migrations.

Both engines must behave the same: datetimes come back timezone-aware in UTC (SQLite stores them as
naive UTC text, which also keeps them comparable as strings), JSON is JSONB on PostgreSQL, and ids that
grow without bound are BIGINT on PostgreSQL while staying SQLite's rowid alias.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, DateTime, Dialect, Integer, TypeDecorator
from sqlalchemy.dialects.postgresql import JSONB

#: JSON document column: JSONB on PostgreSQL, JSON text on SQLite.
Json = JSON().with_variant(JSONB(), "postgresql")

#: Auto-incremented id that may pass 2**31 (observations, deliveries): BIGINT on PostgreSQL, and
#: INTEGER on SQLite so that it stays the rowid alias (a BIGINT primary key would not autoincrement).
BigId = BigInteger().with_variant(Integer(), "sqlite")


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp that only accepts aware datetimes and always returns them in UTC.

    Raises ValueError on a naive datetime: a naive value is a bug upstream, never guessed at here.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime given to the store: {value!r}")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            # SQLite keeps text; one fixed offset-less UTC form keeps comparisons and ORDER BY correct.
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class SecretJson(TypeDecorator[dict[str, Any]]):
    """JSON for channel settings that may hold secrets (bot tokens, webhook signing keys).

    Stored as plain JSON today. Every secret-bearing column uses this type so that encrypting at rest
    later is a change here and one data migration, not a hunt through the schema.
    """

    impl = JSON
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> Any:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(JSONB())
        return dialect.type_descriptor(JSON())
