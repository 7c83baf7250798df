"""`wishbot backup` / `wishbot restore`: a round trip on SQLite and PostgreSQL gives back every
table exactly; SQLite is copied while the bot runs; bad input changes nothing."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text, update
from sqlalchemy.ext.asyncio import create_async_engine

import bot.db.models  # noqa: F401 - every table on the metadata
from bot.cli import main
from bot.db.base import Base, utcnow
from bot.db.migrate import upgrade_async
from bot.db.models.people import Grid
from bot.db.models.timers import Timer
from bot.demo.stage import Stage
from tests.conftest import ManualClock, wait_until

pytestmark = pytest.mark.e2e

Snapshot = dict[str, list[tuple[Any, ...]]]


async def snapshot(url: str) -> Snapshot:
    """Every row of every table (and the schema revision), in a stable order."""
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            tables: Snapshot = {}
            for table in Base.metadata.sorted_tables:
                rows = (await conn.execute(select(table))).all()
                tables[table.name] = sorted((tuple(r) for r in rows), key=repr)
            version = (await conn.execute(text("SELECT version_num FROM alembic_version"))).all()
            tables["alembic_version"] = [tuple(r) for r in version]
            return tables
    finally:
        await engine.dispose()


def config_for(tmp_path: Path, url: str) -> str:
    path = tmp_path / "config.toml"
    path.write_text(f'[database]\nurl = "{url}"\n', encoding="utf-8")
    return str(path)


async def wishbot(*argv: str) -> int:
    return await asyncio.to_thread(main, list(argv))


async def test_backup_and_restore_give_back_every_table(
    db_url: str, tmp_path: Path, clock: ManualClock, capsys: pytest.CaptureFixture[str]
) -> None:
    config = config_for(tmp_path, db_url)
    file = tmp_path / "wishbot.backup"
    async with Stage(db_url, clock=clock) as stage:
        # Some of everything the bot writes: people, grids, staff, timers, conversation state.
        await stage.person(9001, "王主任").say("/start")
        await stage.person(555001, "路人").say("/myid", expect="555001")
        async with stage.app.sessions() as session:
            for n in range(3):
                due = clock() + timedelta(hours=n)
                session.add(Timer(kind="test", key=f"b{n}", due_at=due, payload={"n": n}))
            await session.commit()
        before = await snapshot(db_url)
        assert sum(len(rows) for rows in before.values()) > 10
        # The bot is running while the backup is taken.
        assert await wishbot("backup", "--config", config, str(file)) == 0
    assert "wishbot backup:" in capsys.readouterr().out
    assert file.stat().st_size > 0

    # Afterwards the database changes...
    engine = create_async_engine(db_url)
    async with engine.begin() as conn:
        await conn.execute(Timer.__table__.delete())
        await conn.execute(update(Grid).values(name="改过的名字"))
    await engine.dispose()
    assert await snapshot(db_url) != before

    # ...and the restore gives back exactly what was backed up.
    assert await wishbot("restore", "--config", config, str(file)) == 0
    assert "wishbot restore:" in capsys.readouterr().out
    assert await snapshot(db_url) == before


async def test_sqlite_backup_is_consistent_while_the_bot_writes(
    sqlite_url: str, tmp_path: Path
) -> None:
    await upgrade_async(sqlite_url)
    engine = create_async_engine(sqlite_url)
    stop = asyncio.Event()
    written = 0

    async def writer() -> None:
        nonlocal written
        while not stop.is_set():
            async with engine.begin() as conn:
                await conn.execute(
                    Timer.__table__.insert().values(
                        kind="w", key=f"w{written}", due_at=utcnow(), payload={}
                    )
                )
            written += 1
            await asyncio.sleep(0)

    task = asyncio.create_task(writer())
    await wait_until(lambda: written >= 20)
    file = tmp_path / "live.backup"
    assert await wishbot("backup", "--config", config_for(tmp_path, sqlite_url), str(file)) == 0
    stop.set()
    await task
    await engine.dispose()
    copy = sqlite3.connect(file)
    try:
        assert copy.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        (count,) = copy.execute("SELECT count(*) FROM timers").fetchone()
        keys = {k for (k,) in copy.execute("SELECT key FROM timers")}
    finally:
        copy.close()
    # A prefix of the writes: whole transactions only, none torn.
    assert 20 <= count <= written
    assert keys == {f"w{n}" for n in range(count)}


async def test_bad_input_gets_one_line_and_changes_nothing(
    sqlite_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    await upgrade_async(sqlite_url)
    config = config_for(tmp_path, sqlite_url)
    before = await snapshot(sqlite_url)

    assert await wishbot("restore", "--config", config, str(tmp_path / "missing")) == 2
    assert "no such file" in capsys.readouterr().err

    junk = tmp_path / "notes.txt"
    junk.write_text("not a database", encoding="utf-8")
    assert await wishbot("restore", "--config", config, str(junk)) == 2
    assert "not a SQLite backup" in capsys.readouterr().err

    assert await wishbot("backup", "--config", config, str(junk)) == 2
    assert "exists already" in capsys.readouterr().err
    assert junk.read_text(encoding="utf-8") == "not a database"

    other = tmp_path / "other.db"
    sqlite3.connect(other).close()  # a SQLite file, but not a wishbot database
    assert await wishbot("restore", "--config", config, str(other)) == 2
    assert "not a wishbot database backup" in capsys.readouterr().err

    assert await snapshot(sqlite_url) == before


async def test_postgres_without_the_client_tools_says_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no pg_dump, no pg_restore
    config = config_for(tmp_path, "postgresql+asyncpg://postgres@127.0.0.1:5432/test")
    assert await wishbot("backup", "--config", config, str(tmp_path / "x.dump")) == 2
    assert "pg_dump is not installed" in capsys.readouterr().err
    assert not (tmp_path / "x.dump").exists()
    (tmp_path / "x.dump").write_bytes(b"PGDMP...")
    assert await wishbot("restore", "--config", config, str(tmp_path / "x.dump")) == 2
    assert "pg_restore is not installed" in capsys.readouterr().err
