"""overview speed: the window sums read one covering index of the filing time

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-29 13:10:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# PostgreSQL only: SQLite ignores INCLUDE and gets an index of created_at.
COVER_COLUMNS = [
    "id",
    "grid_id",
    "status",
    "category",
    "rating",
    "volunteer_id",
    "claimed_at",
    "done_at",
]


def upgrade() -> None:
    with op.batch_alter_table("wishes", schema=None) as batch_op:
        batch_op.create_index(
            "ix_wishes_created_cover",
            ["created_at"],
            unique=False,
            postgresql_include=COVER_COLUMNS,
        )


def downgrade() -> None:
    with op.batch_alter_table("wishes", schema=None) as batch_op:
        batch_op.drop_index("ix_wishes_created_cover")
