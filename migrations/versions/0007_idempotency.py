"""processed actions: idempotency keys for buttons and messages that create, spend or send

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29 08:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import bot.db.base

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "processed_actions",
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=True),
        sa.Column("answer", sa.Text(), nullable=True),
        sa.Column("created_at", bot.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_processed_actions")),
    )
    with op.batch_alter_table("processed_actions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_processed_actions_user_id"), ["user_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("processed_actions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_processed_actions_user_id"))
    op.drop_table("processed_actions")
