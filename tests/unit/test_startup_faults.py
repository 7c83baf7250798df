"""`wishbot run` start-up faults: one line naming the cause and what to do, exit 2, no traceback."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.cli import main
from bot.db.migrate import upgrade
from bot.fakeapi.server import FakeBotAPI


@pytest.fixture
def migrated_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}"
    upgrade(url)
    monkeypatch.setenv("WISHBOT__DATABASE__URL", url)
    monkeypatch.chdir(tmp_path)
    return url


@pytest.fixture
def fake_api() -> Iterator[str]:
    """A fake Bot API server with token 42:REAL, on its own loop in a thread."""
    loop = asyncio.new_event_loop()
    fake = FakeBotAPI(token="42:REAL")
    ready = threading.Event()

    def serve() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(fake.start())
        ready.set()
        loop.run_forever()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    assert ready.wait(10)
    try:
        yield fake.base_url
    finally:
        asyncio.run_coroutine_threadsafe(fake.stop(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()


@pytest.fixture(autouse=True)
def _quiet_info(monkeypatch: pytest.MonkeyPatch) -> None:
    # INFO lines (alembic, the scheduler) are ordinary logging; warnings and errors would show.
    monkeypatch.setenv("WISHBOT__LOGGING__LEVEL", "WARNING")
    # With no admin the start also warns that nobody can invite staff (a line of its own).
    monkeypatch.setenv("WISHBOT__STAFF__ADMINS", "[1]")


def _one_line_exit_2(capsys: pytest.CaptureFixture[str], argv: list[str], *words: str) -> str:
    assert main(argv) == 2
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert "Traceback" not in err
    for word in words:
        assert word in lines[0], lines[0]
    return lines[0]


def test_missing_sqlite_file_says_to_migrate(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("WISHBOT__DATABASE__URL", f"sqlite+aiosqlite:///{tmp_path / 'none.db'}")
    monkeypatch.setenv("WISHBOT__TELEGRAM__TOKEN", "42:REAL")
    monkeypatch.chdir(tmp_path)
    _one_line_exit_2(capsys, ["run"], "does not exist", "wishbot migrate")
    assert not (tmp_path / "none.db").exists()  # checking did not create it


def test_unmigrated_database_says_to_migrate(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "empty.db").touch()
    monkeypatch.setenv("WISHBOT__DATABASE__URL", f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}")
    monkeypatch.setenv("WISHBOT__TELEGRAM__TOKEN", "42:REAL")
    monkeypatch.chdir(tmp_path)
    _one_line_exit_2(capsys, ["run"], "schema", "wishbot migrate")


def test_unreachable_database_server(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("WISHBOT__DATABASE__URL", "postgresql+asyncpg://postgres:pw@127.0.0.1:9/x")
    monkeypatch.setenv("WISHBOT__TELEGRAM__TOKEN", "42:REAL")
    monkeypatch.chdir(tmp_path)
    line = _one_line_exit_2(capsys, ["run"], "cannot open the database", "database.url")
    assert "pw" not in line  # the password is not printed


def test_unreachable_bot_api(
    migrated_db: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("WISHBOT__TELEGRAM__TOKEN", "42:REAL")
    monkeypatch.setenv("WISHBOT__TELEGRAM__API_BASE", "http://127.0.0.1:9")
    _one_line_exit_2(capsys, ["run"], "cannot reach the Bot API", "telegram.api_base")


def test_refused_token(
    migrated_db: str,
    fake_api: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("WISHBOT__TELEGRAM__TOKEN", "42:WRONG")
    monkeypatch.setenv("WISHBOT__TELEGRAM__API_BASE", fake_api)
    _one_line_exit_2(capsys, ["run"], "401", "telegram.token")


def test_missing_token(migrated_db: str, capsys: pytest.CaptureFixture[str]) -> None:
    _one_line_exit_2(capsys, ["run"], "telegram.token")


def test_a_pool_too_small_for_the_concurrency_refuses_to_start(
    migrated_db: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("WISHBOT__TELEGRAM__TOKEN", "42:REAL")
    monkeypatch.setenv("WISHBOT__DATABASE__POOL_SIZE", "5")
    monkeypatch.setenv("WISHBOT__DATABASE__MAX_OVERFLOW", "0")
    monkeypatch.setenv("WISHBOT__TELEGRAM__MAX_CONCURRENT_UPDATES", "16")
    _one_line_exit_2(capsys, ["run"], "database.pool_size", "max_concurrent_updates", "20")
