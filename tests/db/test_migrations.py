"""Every Alembic revision upgrades, downgrades and upgrades again, on SQLite and PostgreSQL;
and the models match what the migrations build."""

from __future__ import annotations

import asyncio

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from bot.db import migrate
from bot.db.base import Base
from bot.db.engine import make_engine


async def test_up_down_up_every_revision(db_url: str) -> None:
    script = ScriptDirectory.from_config(migrate.alembic_config(db_url))
    revisions = [r.revision for r in reversed(list(script.walk_revisions()))]
    assert revisions, "no migrations found"
    for revision in revisions:
        await asyncio.to_thread(migrate.upgrade, db_url, revision)
        previous = script.get_revision(revision).down_revision or "base"
        await asyncio.to_thread(migrate.downgrade, db_url, str(previous))
        await asyncio.to_thread(migrate.upgrade, db_url, revision)
        assert await migrate.current_revision(db_url) == revision
    await asyncio.to_thread(migrate.downgrade, db_url, "base")
    assert await migrate.current_revision(db_url) is None
    await asyncio.to_thread(migrate.upgrade, db_url, "head")
    assert await migrate.current_revision(db_url) == migrate.head_revision()


async def test_models_match_the_migrations(db_url: str) -> None:
    await migrate.upgrade_async(db_url)
    engine = make_engine(db_url)
    try:
        async with engine.connect() as conn:

            def diff(sync_conn):  # type: ignore[no-untyped-def]
                context = MigrationContext.configure(sync_conn, opts={"compare_type": False})
                return compare_metadata(context, Base.metadata)

            changes = await conn.run_sync(diff)
    finally:
        await engine.dispose()
    assert changes == [], f"models and migrations differ: {changes}"
