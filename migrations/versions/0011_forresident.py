"""filing on behalf (代办): resident consents and proxy filings

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-29 11:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import bot.db.base

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "resident_consents",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("resident_id", _ID, nullable=False),
        sa.Column("method", sa.String(length=16), nullable=False),
        sa.Column("given_at", bot.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("recorded_by", _ID, nullable=False),
        sa.ForeignKeyConstraint(
            ["recorded_by"], ["users.id"], name=op.f("fk_resident_consents_recorded_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["resident_id"], ["users.id"], name=op.f("fk_resident_consents_resident_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_resident_consents")),
    )
    with op.batch_alter_table("resident_consents", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_resident_consents_recorded_by"), ["recorded_by"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_resident_consents_resident_id"), ["resident_id"], unique=False
        )
    op.create_table(
        "proxy_filings",
        sa.Column("wish_id", _ID, nullable=False),
        sa.Column("filer_id", _ID, nullable=False),
        sa.Column("consent_id", _ID, nullable=False),
        sa.Column("created_at", bot.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["consent_id"],
            ["resident_consents.id"],
            name=op.f("fk_proxy_filings_consent_id_resident_consents"),
        ),
        sa.ForeignKeyConstraint(
            ["filer_id"], ["users.id"], name=op.f("fk_proxy_filings_filer_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["wish_id"], ["wishes.id"], name=op.f("fk_proxy_filings_wish_id_wishes")
        ),
        sa.PrimaryKeyConstraint("wish_id", name=op.f("pk_proxy_filings")),
    )
    with op.batch_alter_table("proxy_filings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_proxy_filings_filer_id"), ["filer_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("proxy_filings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_proxy_filings_filer_id"))
    op.drop_table("proxy_filings")
    with op.batch_alter_table("resident_consents", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_resident_consents_resident_id"))
        batch_op.drop_index(batch_op.f("ix_resident_consents_recorded_by"))
    op.drop_table("resident_consents")
