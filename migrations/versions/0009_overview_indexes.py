"""overview speed: open wishes per grid and first approvals from the indexes alone

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-29 11:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APPROVED = sa.text("to_status = 'approved'")


def upgrade() -> None:
    with op.batch_alter_table("wishes", schema=None) as batch_op:
        batch_op.create_index(
            "ix_wishes_status_grid_deadline", ["status", "grid_id", "deadline"], unique=False
        )
    with op.batch_alter_table("wish_events", schema=None) as batch_op:
        batch_op.create_index(
            "ix_wish_events_approved_at",
            ["at", "wish_id"],
            unique=False,
            postgresql_where=APPROVED,
            sqlite_where=APPROVED,
        )


def downgrade() -> None:
    with op.batch_alter_table("wish_events", schema=None) as batch_op:
        batch_op.drop_index("ix_wish_events_approved_at")
    with op.batch_alter_table("wishes", schema=None) as batch_op:
        batch_op.drop_index("ix_wishes_status_grid_deadline")
