# SPDX-License-Identifier: AGPL-3.0-or-later
"""Alembic migrations of the creneau schema (run by `Store.open` and `creneau db upgrade`)."""
