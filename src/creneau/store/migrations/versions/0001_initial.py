# SPDX-License-Identifier: AGPL-3.0-or-later
"""Initial schema: targets, observations and pages, openings and slot lifetimes, transitions,
subscribers, channels, watches, the deliveries outbox and captcha challenges.

Revision ID: 0001
Revises:
Create Date: 2026-11-23

Types are spelled out here (not imported from the models) so that this revision stays what it was when
later revisions change the models.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TIMESTAMP = sa.DateTime(timezone=True)
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
BIGID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "pages",
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("encoding", sa.String(length=10), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("first_seen_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("digest", name=op.f("pk_pages")),
    )
    op.create_table(
        "subscribers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("locale", sa.String(length=10), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subscribers")),
        sa.UniqueConstraint("email", name=op.f("uq_subscribers_email")),
    )
    op.create_table(
        "targets",
        sa.Column("id", sa.String(length=200), nullable=False),
        sa.Column("system", sa.String(length=20), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("host", sa.String(length=255), nullable=False),
        sa.Column("office_id", sa.String(length=100), nullable=False),
        sa.Column("demarche_key", sa.String(length=100), nullable=False),
        sa.Column("demarche_id", sa.Integer(), nullable=True),
        sa.Column("params", JSON, nullable=False),
        sa.Column("label", sa.Text(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.Column("next_check_at", TIMESTAMP, nullable=False),
        sa.Column("lease_owner", sa.String(length=200), nullable=True),
        sa.Column("lease_until", TIMESTAMP, nullable=True),
        sa.Column("last_outcome", sa.String(length=40), nullable=True),
        sa.Column("last_checked_at", TIMESTAMP, nullable=True),
        sa.Column("consecutive_failures", sa.Integer(), nullable=False),
        sa.Column("backoff_until", TIMESTAMP, nullable=True),
        sa.Column("paused_until", TIMESTAMP, nullable=True),
        sa.Column("pause_reason", sa.Text(), nullable=True),
        sa.Column("detector_state", JSON, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_targets")),
    )
    op.create_index(op.f("ix_targets_host"), "targets", ["host"], unique=False)
    op.create_index(op.f("ix_targets_next_check_at"), "targets", ["next_check_at"], unique=False)

    op.create_table(
        "captcha_challenges",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("target_id", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("prompt", sa.Text(), nullable=False),
        sa.Column("image", sa.LargeBinary(), nullable=True),
        sa.Column("image_type", sa.String(length=50), nullable=True),
        sa.Column("session", JSON, nullable=False),
        sa.Column("answer", sa.Text(), nullable=True),
        sa.Column("answered_by", sa.Text(), nullable=True),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("expires_at", TIMESTAMP, nullable=False),
        sa.Column("answered_at", TIMESTAMP, nullable=True),
        sa.CheckConstraint(
            "status IN ('open', 'answered', 'used', 'expired')", name=op.f("ck_captcha_challenges_status")
        ),
        sa.ForeignKeyConstraint(
            ["target_id"], ["targets.id"], name=op.f("fk_captcha_challenges_target_id_targets"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_captcha_challenges")),
    )
    op.create_index(
        op.f("ix_captcha_challenges_status_created_at"), "captcha_challenges", ["status", "created_at"], unique=False
    )
    op.create_index(op.f("ix_captcha_challenges_target_id"), "captcha_challenges", ["target_id"], unique=False)

    op.create_table(
        "channels",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subscriber_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("address", sa.Text(), nullable=False),
        sa.Column("config", JSON, nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("disabled_reason", sa.Text(), nullable=True),
        sa.Column("disabled_at", TIMESTAMP, nullable=True),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.CheckConstraint("status IN ('active', 'disabled')", name=op.f("ck_channels_status")),
        sa.ForeignKeyConstraint(
            ["subscriber_id"],
            ["subscribers.id"],
            name=op.f("fk_channels_subscriber_id_subscribers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_channels")),
        sa.UniqueConstraint("subscriber_id", "kind", "address", name=op.f("uq_channels_subscriber_id_kind_address")),
    )
    op.create_index(op.f("ix_channels_subscriber_id"), "channels", ["subscriber_id"], unique=False)

    op.create_table(
        "observations",
        sa.Column("id", BIGID, nullable=False),
        sa.Column("target_id", sa.String(length=200), nullable=False),
        sa.Column("checked_at", TIMESTAMP, nullable=False),
        sa.Column("outcome", sa.String(length=40), nullable=False),
        sa.Column("evidence", sa.Text(), nullable=False),
        sa.Column("slots", JSON, nullable=False),
        sa.Column("notices", JSON, nullable=False),
        sa.Column("http_status", sa.Integer(), nullable=True),
        sa.Column("duration_s", sa.Float(), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("page", sa.String(length=100), nullable=False),
        sa.Column("page_digest", sa.String(length=64), nullable=True),
        sa.Column("retry_after_s", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(["page_digest"], ["pages.digest"], name=op.f("fk_observations_page_digest_pages")),
        sa.ForeignKeyConstraint(
            ["target_id"], ["targets.id"], name=op.f("fk_observations_target_id_targets"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_observations")),
    )
    op.create_index(
        op.f("ix_observations_target_id_checked_at"), "observations", ["target_id", "checked_at"], unique=False
    )

    op.create_table(
        "openings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("target_id", sa.String(length=200), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("started_at", TIMESTAMP, nullable=False),
        sa.Column("ended_at", TIMESTAMP, nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("close_reason", sa.Text(), nullable=True),
        sa.Column("first_slots", JSON, nullable=False),
        sa.ForeignKeyConstraint(
            ["target_id"], ["targets.id"], name=op.f("fk_openings_target_id_targets"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_openings")),
        sa.UniqueConstraint("target_id", "seq", name=op.f("uq_openings_target_id_seq")),
    )
    op.create_index(op.f("ix_openings_target_id_started_at"), "openings", ["target_id", "started_at"], unique=False)
    op.create_index(
        "uq_openings_one_open_per_target",
        "openings",
        ["target_id"],
        unique=True,
        sqlite_where=sa.text("ended_at IS NULL"),
        postgresql_where=sa.text("ended_at IS NULL"),
    )

    op.create_table(
        "watches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subscriber_id", sa.Integer(), nullable=False),
        sa.Column("label", sa.Text(), nullable=False),
        sa.Column("filters", JSON, nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.CheckConstraint("status IN ('active', 'paused')", name=op.f("ck_watches_status")),
        sa.ForeignKeyConstraint(
            ["subscriber_id"], ["subscribers.id"], name=op.f("fk_watches_subscriber_id_subscribers"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_watches")),
    )
    op.create_index(op.f("ix_watches_subscriber_id"), "watches", ["subscriber_id"], unique=False)

    op.create_table(
        "opening_slots",
        sa.Column("id", BIGID, nullable=False),
        sa.Column("opening_id", sa.Integer(), nullable=False),
        sa.Column("slot_key", sa.String(length=300), nullable=False),
        sa.Column("start", TIMESTAMP, nullable=False),
        sa.Column("guichet", sa.String(length=100), nullable=True),
        sa.Column("guichet_label", sa.Text(), nullable=True),
        sa.Column("place", sa.Text(), nullable=True),
        sa.Column("ref", sa.Text(), nullable=True),
        sa.Column("first_seen", TIMESTAMP, nullable=False),
        sa.Column("last_seen", TIMESTAMP, nullable=False),
        sa.Column("gone_at", TIMESTAMP, nullable=True),
        sa.ForeignKeyConstraint(
            ["opening_id"], ["openings.id"], name=op.f("fk_opening_slots_opening_id_openings"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_opening_slots")),
        sa.UniqueConstraint("opening_id", "slot_key", name=op.f("uq_opening_slots_opening_id_slot_key")),
    )
    op.create_table(
        "transitions",
        sa.Column("id", BIGID, nullable=False),
        sa.Column("key", sa.String(length=512), nullable=False),
        sa.Column("target_id", sa.String(length=200), nullable=False),
        sa.Column("opening_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("old_state", sa.String(length=20), nullable=False),
        sa.Column("new_state", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("at", TIMESTAMP, nullable=False),
        sa.Column("payload", JSON, nullable=False),
        sa.ForeignKeyConstraint(
            ["opening_id"], ["openings.id"], name=op.f("fk_transitions_opening_id_openings"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["target_id"], ["targets.id"], name=op.f("fk_transitions_target_id_targets"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_transitions")),
        sa.UniqueConstraint("key", name=op.f("uq_transitions_key")),
    )
    op.create_index(op.f("ix_transitions_opening_id"), "transitions", ["opening_id"], unique=False)
    op.create_index(op.f("ix_transitions_target_id_at"), "transitions", ["target_id", "at"], unique=False)

    op.create_table(
        "watch_targets",
        sa.Column("watch_id", sa.Integer(), nullable=False),
        sa.Column("target_id", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["target_id"], ["targets.id"], name=op.f("fk_watch_targets_target_id_targets"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["watch_id"], ["watches.id"], name=op.f("fk_watch_targets_watch_id_watches"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("watch_id", "target_id", name=op.f("pk_watch_targets")),
    )
    op.create_index(op.f("ix_watch_targets_target_id"), "watch_targets", ["target_id"], unique=False)

    op.create_table(
        "deliveries",
        sa.Column("id", BIGID, nullable=False),
        sa.Column("idempotency_key", sa.String(length=512), nullable=False),
        sa.Column("transition_id", BIGID, nullable=False),
        sa.Column("opening_id", sa.Integer(), nullable=True),
        sa.Column("watch_id", sa.Integer(), nullable=True),
        sa.Column("channel_id", sa.Integer(), nullable=False),
        sa.Column("channel_kind", sa.String(length=40), nullable=False),
        sa.Column("payload", JSON, nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", TIMESTAMP, nullable=False),
        sa.Column("lease_owner", sa.String(length=200), nullable=True),
        sa.Column("lease_until", TIMESTAMP, nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("sent_at", TIMESTAMP, nullable=True),
        sa.Column("provider_ref", sa.Text(), nullable=True),
        sa.Column("shuffle_key", sa.Integer(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.CheckConstraint(
            "status IN ('pending', 'leased', 'sent', 'failed', 'dead')", name=op.f("ck_deliveries_status")
        ),
        sa.ForeignKeyConstraint(
            ["channel_id"], ["channels.id"], name=op.f("fk_deliveries_channel_id_channels"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["opening_id"], ["openings.id"], name=op.f("fk_deliveries_opening_id_openings"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["transition_id"],
            ["transitions.id"],
            name=op.f("fk_deliveries_transition_id_transitions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["watch_id"], ["watches.id"], name=op.f("fk_deliveries_watch_id_watches"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deliveries")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_deliveries_idempotency_key")),
    )
    op.create_index(op.f("ix_deliveries_channel_id_status"), "deliveries", ["channel_id", "status"], unique=False)
    op.create_index(op.f("ix_deliveries_opening_id"), "deliveries", ["opening_id"], unique=False)
    op.create_index(
        op.f("ix_deliveries_transition_id_shuffle_key"), "deliveries", ["transition_id", "shuffle_key"], unique=False
    )
    op.create_index(
        "ix_deliveries_unfinished_fair_order",
        "deliveries",
        ["transition_id", "shuffle_key"],
        unique=False,
        sqlite_where=sa.text("status IN ('pending', 'failed', 'leased')"),
        postgresql_where=sa.text("status IN ('pending', 'failed', 'leased')"),
    )
    op.create_index(op.f("ix_deliveries_watch_id"), "deliveries", ["watch_id"], unique=False)


def downgrade() -> None:
    op.drop_table("deliveries")
    op.drop_table("watch_targets")
    op.drop_table("transitions")
    op.drop_table("opening_slots")
    op.drop_table("watches")
    op.drop_table("openings")
    op.drop_table("observations")
    op.drop_table("channels")
    op.drop_table("captcha_challenges")
    op.drop_table("targets")
    op.drop_table("subscribers")
    op.drop_table("pages")
