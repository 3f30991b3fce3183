# SPDX-License-Identifier: AGPL-3.0-or-later
"""Indexes of the operator view, /metrics and the public openings feed.

- `observations (outcome, checked_at)`: the latest unrecognised pages and the day's blocks and rate limits
  without scanning every check;
- `openings (started_at)`: the openings feed newest first and today's openings;
- `deliveries (status, channel_kind, created_at)`: the outbox backlog per status and channel kind, with
  its oldest row, read from the index alone (sent rows are never walked).

Revision ID: 0006_operator_indexes
Revises: 0005_watchers
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0006_operator_indexes"
down_revision: str | None = "0005_watchers"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(op.f("ix_observations_outcome_checked_at"), "observations", ["outcome", "checked_at"])
    op.create_index(op.f("ix_openings_started_at"), "openings", ["started_at"])
    op.create_index(
        op.f("ix_deliveries_status_channel_kind_created_at"), "deliveries", ["status", "channel_kind", "created_at"]
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_deliveries_status_channel_kind_created_at"), table_name="deliveries")
    op.drop_index(op.f("ix_openings_started_at"), table_name="openings")
    op.drop_index(op.f("ix_observations_outcome_checked_at"), table_name="observations")
