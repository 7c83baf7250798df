"""calendar runs: one row per calendar job and due time, so several workers run it once

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-29 12:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import bot.db.base

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "calendar_runs",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("job", sa.String(length=48), nullable=False),
        sa.Column("due_at", bot.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("worker", sa.String(length=64), nullable=False),
        sa.Column("started_at", bot.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", bot.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_calendar_runs")),
        sa.UniqueConstraint("job", "due_at", name=op.f("uq_calendar_runs_job_due_at")),
    )


def downgrade() -> None:
    op.drop_table("calendar_runs")
