"""Alembic driven from code: `wishbot migrate`, the schema check at start-up, and tests."""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection

from bot.db.engine import make_engine

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent.parent / "migrations"


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["url"] = url
    return cfg


def upgrade(url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(url), revision)


def downgrade(url: str, revision: str) -> None:
    command.downgrade(alembic_config(url), revision)


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config("")).get_current_head()


async def current_revision(url: str) -> str | None:
    engine = make_engine(url)
    try:
        async with engine.connect() as conn:

            def _read(sync_conn: Connection) -> str | None:
                return MigrationContext.configure(sync_conn).get_current_revision()

            return await conn.run_sync(_read)
    finally:
        await engine.dispose()


async def upgrade_async(url: str, revision: str = "head") -> None:
    # Alembic's env.py runs its own event loop; keep it off ours.
    await asyncio.to_thread(upgrade, url, revision)
