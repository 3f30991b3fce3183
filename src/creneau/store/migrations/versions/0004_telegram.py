# SPDX-License-Identifier: AGPL-3.0-or-later
"""Telegram bot: one-time link tokens, linked chats and relayed captcha images (`store/telegram.py`).

Revision ID: 0004_telegram
Revises: 0003_evidence
Create Date: 2026-11-24

Types are spelled out here (not imported from the models) so that this revision stays what it was when
later revisions change the models.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004_telegram"
down_revision: str | None = "0003_evidence"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "telegram_links",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("subscriber_id", sa.Integer(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("expires_at", TIMESTAMP, nullable=False),
        sa.Column("used_at", TIMESTAMP, nullable=True),
        sa.ForeignKeyConstraint(
            ["subscriber_id"],
            ["subscribers.id"],
            name=op.f("fk_telegram_links_subscriber_id_subscribers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_telegram_links")),
    )
    op.create_index(op.f("ix_telegram_links_subscriber_id"), "telegram_links", ["subscriber_id"])
    op.create_table(
        "telegram_chats",
        sa.Column("chat_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("subscriber_id", sa.Integer(), nullable=False),
        sa.Column("channel_id", sa.Integer(), nullable=False),
        sa.Column("captcha_optin", sa.Boolean(), nullable=False),
        sa.Column("linked_at", TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(
            ["channel_id"], ["channels.id"], name=op.f("fk_telegram_chats_channel_id_channels"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["subscriber_id"],
            ["subscribers.id"],
            name=op.f("fk_telegram_chats_subscriber_id_subscribers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("chat_id", name=op.f("pk_telegram_chats")),
        sa.UniqueConstraint("channel_id", name=op.f("uq_telegram_chats_channel_id")),
    )
    op.create_index(op.f("ix_telegram_chats_subscriber_id"), "telegram_chats", ["subscriber_id"])
    op.create_table(
        "telegram_relays",
        sa.Column("challenge_id", sa.String(length=64), nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("target_id", sa.String(length=200), nullable=False),
        sa.Column("message_id", sa.Integer(), nullable=True),
        sa.Column("sent_at", TIMESTAMP, nullable=False),
        sa.Column("answered_at", TIMESTAMP, nullable=True),
        sa.ForeignKeyConstraint(
            ["chat_id"], ["telegram_chats.chat_id"], name=op.f("fk_telegram_relays_chat_id_telegram_chats"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("challenge_id", "chat_id", name=op.f("pk_telegram_relays")),
    )  # fmt: skip
    op.create_index(op.f("ix_telegram_relays_chat_id"), "telegram_relays", ["chat_id"])
    op.create_index(op.f("ix_telegram_relays_target_id"), "telegram_relays", ["target_id"])


def downgrade() -> None:
    op.drop_table("telegram_relays")
    op.drop_table("telegram_chats")
    op.drop_table("telegram_links")
