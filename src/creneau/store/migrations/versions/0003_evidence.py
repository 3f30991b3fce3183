# SPDX-License-Identifier: AGPL-3.0-or-later
"""Evidence: hash-chained logs per watch, raw pages and daily captures, profiles, reminders, letters.

Revision ID: 0003_evidence
Revises: 0002_accounts
Create Date: 2026-11-23

Types are spelled out here (not imported from the models) so that this revision stays what it was when
later revisions change the models (`store/evidence.py`).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003_evidence"
down_revision: str | None = "0002_accounts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TIMESTAMP = sa.DateTime(timezone=True)
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _subscriber_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["subscriber_id"], ["subscribers.id"], name=op.f(f"fk_{table}_subscriber_id_subscribers"), ondelete="CASCADE"
    )


def upgrade() -> None:
    op.create_table(
        "evidence_pages",
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("encoding", sa.String(length=10), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("first_seen_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("digest", name=op.f("pk_evidence_pages")),
    )
    op.create_table(
        "evidence_captures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("target_id", sa.String(length=200), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("on_demand", sa.Boolean(), nullable=False),
        sa.Column("taken_at", TIMESTAMP, nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("office", sa.Text(), nullable=False),
        sa.Column("demarche", sa.Text(), nullable=False),
        sa.Column("page_digest", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("png", sa.LargeBinary(), nullable=True),
        sa.Column("png_sha256", sa.String(length=64), nullable=True),
        sa.Column("preview", sa.LargeBinary(), nullable=True),
        sa.Column("width", sa.Integer(), nullable=True),
        sa.Column("height", sa.Integer(), nullable=True),
        sa.Column("rendered_at", TIMESTAMP, nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.CheckConstraint("status IN ('pending', 'rendered', 'failed')", name=op.f("ck_evidence_captures_status")),
        sa.ForeignKeyConstraint(
            ["page_digest"], ["evidence_pages.digest"], name=op.f("fk_evidence_captures_page_digest_evidence_pages")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evidence_captures")),
    )
    op.create_index(op.f("ix_evidence_captures_status_id"), "evidence_captures", ["status", "id"])
    op.create_index(
        "uq_evidence_captures_daily",
        "evidence_captures",
        ["target_id", "day"],
        unique=True,
        sqlite_where=sa.text("on_demand = 0"),
        postgresql_where=sa.text("on_demand = false"),
    )
    op.create_table(
        "evidence_profiles",
        sa.Column("subscriber_id", sa.Integer(), nullable=False),
        sa.Column("full_name", sa.Text(), nullable=False),
        sa.Column("postal_address", sa.Text(), nullable=False),
        sa.Column("birth_date", sa.Date(), nullable=True),
        sa.Column("nationality", sa.Text(), nullable=False),
        sa.Column("numero_etranger", sa.Text(), nullable=False),
        sa.Column("permit_expiry", sa.Date(), nullable=True),
        sa.Column("ics_token_hash", sa.String(length=64), nullable=True),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        _subscriber_fk("evidence_profiles"),
        sa.PrimaryKeyConstraint("subscriber_id", name=op.f("pk_evidence_profiles")),
        sa.UniqueConstraint("ics_token_hash", name=op.f("uq_evidence_profiles_ics_token_hash")),
    )
    op.create_table(
        "evidence_reminders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=300), nullable=False),
        sa.Column("subscriber_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("due_at", TIMESTAMP, nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", TIMESTAMP, nullable=False),
        sa.Column("sent_at", TIMESTAMP, nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.CheckConstraint(
            "status IN ('pending', 'sent', 'failed', 'dropped')", name=op.f("ck_evidence_reminders_status")
        ),
        _subscriber_fk("evidence_reminders"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evidence_reminders")),
        sa.UniqueConstraint("key", name=op.f("uq_evidence_reminders_key")),
    )
    op.create_index(op.f("ix_evidence_reminders_status_due_at"), "evidence_reminders", ["status", "due_at"])
    op.create_index(op.f("ix_evidence_reminders_subscriber_id"), "evidence_reminders", ["subscriber_id"])
    op.create_table(
        "evidence_chains",
        sa.Column("watch_id", sa.Integer(), nullable=False),
        sa.Column("subscriber_id", sa.Integer(), nullable=False),
        sa.Column("chain_id", sa.String(length=40), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("auto", sa.Boolean(), nullable=False),
        sa.Column("head_seq", sa.Integer(), nullable=False),
        sa.Column("head_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("changed_at", TIMESTAMP, nullable=False),
        _subscriber_fk("evidence_chains"),
        sa.ForeignKeyConstraint(
            ["watch_id"], ["watches.id"], name=op.f("fk_evidence_chains_watch_id_watches"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("watch_id", name=op.f("pk_evidence_chains")),
        sa.UniqueConstraint("chain_id", name=op.f("uq_evidence_chains_chain_id")),
    )
    op.create_index(op.f("ix_evidence_chains_subscriber_id"), "evidence_chains", ["subscriber_id"])
    op.create_table(
        "evidence_letters",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subscriber_id", sa.Integer(), nullable=False),
        sa.Column("watch_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        _subscriber_fk("evidence_letters"),
        sa.ForeignKeyConstraint(
            ["watch_id"], ["watches.id"], name=op.f("fk_evidence_letters_watch_id_watches"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evidence_letters")),
    )
    op.create_index(op.f("ix_evidence_letters_subscriber_id"), "evidence_letters", ["subscriber_id"])
    op.create_index("uq_evidence_letters_watch_kind", "evidence_letters", ["watch_id", "kind"], unique=True)
    op.create_table(
        "evidence_entries",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("watch_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("at", TIMESTAMP, nullable=False),
        sa.Column("target_id", sa.String(length=200), nullable=False),
        sa.Column("outcome", sa.String(length=40), nullable=False),
        sa.Column("page_digest", sa.String(length=64), nullable=True),
        sa.Column("capture_id", sa.Integer(), nullable=True),
        sa.Column("prev", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.CheckConstraint("kind IN ('attempt', 'capture')", name=op.f("ck_evidence_entries_kind")),
        sa.ForeignKeyConstraint(
            ["capture_id"], ["evidence_captures.id"], name=op.f("fk_evidence_entries_capture_id_evidence_captures")
        ),
        sa.ForeignKeyConstraint(
            ["watch_id"],
            ["evidence_chains.watch_id"],
            name=op.f("fk_evidence_entries_watch_id_evidence_chains"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evidence_entries")),
    )
    op.create_index(op.f("ix_evidence_entries_capture_id"), "evidence_entries", ["capture_id"])
    op.create_index(op.f("ix_evidence_entries_page_digest"), "evidence_entries", ["page_digest"])
    op.create_index(op.f("ix_evidence_entries_watch_id_at"), "evidence_entries", ["watch_id", "at"])
    op.create_index("uq_evidence_entries_watch_seq", "evidence_entries", ["watch_id", "seq"], unique=True)


def downgrade() -> None:
    for table in (
        "evidence_entries",
        "evidence_letters",
        "evidence_chains",
        "evidence_reminders",
        "evidence_profiles",
        "evidence_captures",
        "evidence_pages",
    ):
        op.drop_table(table)
