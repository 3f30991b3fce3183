# SPDX-License-Identifier: AGPL-3.0-or-later
"""Errors the store raises on purpose. Database driver errors are not wrapped: they are bugs or outages."""

from __future__ import annotations


class StoreError(Exception):
    """Base class of the store's own errors; the message is one readable line."""


class NotFound(StoreError):
    """The row the caller named does not exist."""


class Conflict(StoreError):
    """A uniqueness rule refused the write (e.g. the same channel twice for one subscriber)."""


class UnsupportedDatabase(StoreError):
    """The database URL names an engine the store does not run on (only SQLite and PostgreSQL)."""
