# SPDX-License-Identifier: AGPL-3.0-or-later
"""Web watchers: quiet hours and desk opt-in, alert outcomes, captcha-desk answers, e-mail verifications
(`store/watchers.py`).

Revision ID: 0005_watchers
Revises: 0004_telegram
Create Date: 2026-11-24

Types are spelled out here (not imported from the models) so that this revision stays what it was when
later revisions change the models.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_watchers"
down_revision: str | None = "0004_telegram"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TIMESTAMP = sa.DateTime(timezone=True)
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _fk(table: str, column: str, referred: str, ondelete: str = "CASCADE") -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{referred}.id"], name=op.f(f"fk_{table}_{column}_{referred}"), ondelete=ondelete
    )


def upgrade() -> None:
    op.create_table(
        "watcher_prefs",
        sa.Column("subscriber_id", sa.Integer(), nullable=False),
        sa.Column("quiet_start", sa.Integer(), nullable=True),
        sa.Column("quiet_end", sa.Integer(), nullable=True),
        sa.Column("quiet_alerts", sa.Boolean(), nullable=False),
        sa.Column("desk_optin", sa.Boolean(), nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        _fk("watcher_prefs", "subscriber_id", "subscribers"),
        sa.PrimaryKeyConstraint("subscriber_id", name=op.f("pk_watcher_prefs")),
    )
    op.create_table(
        "alert_outcomes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subscriber_id", sa.Integer(), nullable=False),
        sa.Column("transition_id", BIG_ID, nullable=False),
        sa.Column("watch_id", sa.Integer(), nullable=True),
        sa.Column("target_id", sa.String(length=200), nullable=False),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column("at", TIMESTAMP, nullable=False),
        sa.Column("reviewed_at", TIMESTAMP, nullable=True),
        sa.CheckConstraint("outcome IN ('booked', 'gone', 'false_alarm')", name=op.f("ck_alert_outcomes_outcome")),
        _fk("alert_outcomes", "subscriber_id", "subscribers"),
        _fk("alert_outcomes", "target_id", "targets"),
        _fk("alert_outcomes", "transition_id", "transitions"),
        _fk("alert_outcomes", "watch_id", "watches", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_outcomes")),
        sa.UniqueConstraint(
            "subscriber_id", "transition_id", name=op.f("uq_alert_outcomes_subscriber_id_transition_id")
        ),
    )
    op.create_index(op.f("ix_alert_outcomes_outcome_reviewed_at"), "alert_outcomes", ["outcome", "reviewed_at"])
    op.create_index(op.f("ix_alert_outcomes_target_id"), "alert_outcomes", ["target_id"])
    op.create_index(op.f("ix_alert_outcomes_transition_id"), "alert_outcomes", ["transition_id"])
    op.create_table(
        "desk_answers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subscriber_id", sa.Integer(), nullable=False),
        sa.Column("challenge_id", sa.String(length=64), nullable=False),
        sa.Column("target_id", sa.String(length=200), nullable=False),
        sa.Column("first", sa.Boolean(), nullable=False),
        sa.Column("answered_at", TIMESTAMP, nullable=False),
        _fk("desk_answers", "subscriber_id", "subscribers"),
        _fk("desk_answers", "target_id", "targets"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_desk_answers")),
    )
    op.create_index(op.f("ix_desk_answers_subscriber_id_answered_at"), "desk_answers", ["subscriber_id", "answered_at"])
    op.create_index(op.f("ix_desk_answers_target_id_answered_at"), "desk_answers", ["target_id", "answered_at"])
    op.create_table(
        "email_verifications",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("subscriber_id", sa.Integer(), nullable=False),
        sa.Column("address", sa.String(length=320), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("expires_at", TIMESTAMP, nullable=False),
        sa.Column("used_at", TIMESTAMP, nullable=True),
        _fk("email_verifications", "subscriber_id", "subscribers"),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_email_verifications")),
    )
    op.create_index(op.f("ix_email_verifications_subscriber_id"), "email_verifications", ["subscriber_id"])


def downgrade() -> None:
    op.drop_table("email_verifications")
    op.drop_table("desk_answers")
    op.drop_table("alert_outcomes")
    op.drop_table("watcher_prefs")
