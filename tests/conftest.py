"""Shared fixtures: databases (SQLite always; PostgreSQL and Redis when they answer)."""

from __future__ import annotations

import asyncio
import os
import socket
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

IN_CI = os.environ.get("CI", "").lower() == "true"
PG_HOST, PG_PORT = "127.0.0.1", 5432
REDIS_HOST, REDIS_PORT = "127.0.0.1", 6379


def _answers(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def need_service(name: str, host: str, port: int) -> None:
    """Skip locally when a service is down; under CI=true a missing service is a failure."""
    if _answers(host, port):
        return
    message = f"{name} is not answering at {host}:{port}"
    if IN_CI:
        pytest.fail(f"{message} (CI=true: the service tests must run)")
    pytest.skip(message)


class ManualClock:
    """A clock the tests move by hand (timers and deadlines without sleeping)."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2026, 11, 20, 10, 0, tzinfo=UTC)  # a Friday, 18:00 in Shanghai

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        from datetime import timedelta

        self.now += timedelta(**delta)
        return self.now


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'test.db'}"


async def _create_pg_database() -> str:
    import asyncpg

    name = f"wishbot_{uuid.uuid4().hex[:12]}"
    conn = await asyncpg.connect(host=PG_HOST, port=PG_PORT, user="postgres", database="test")
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return name


async def _drop_pg_database(name: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(host=PG_HOST, port=PG_PORT, user="postgres", database="test")
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


@pytest.fixture
async def postgres_url() -> AsyncIterator[str]:
    need_service("PostgreSQL", PG_HOST, PG_PORT)
    name = await _create_pg_database()
    try:
        yield f"postgresql+asyncpg://postgres@{PG_HOST}:{PG_PORT}/{name}"
    finally:
        await _drop_pg_database(name)


@pytest.fixture(params=["sqlite", "postgres"])
async def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """Runs the test once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'test.db'}"
        return
    need_service("PostgreSQL", PG_HOST, PG_PORT)
    name = await _create_pg_database()
    try:
        yield f"postgresql+asyncpg://postgres@{PG_HOST}:{PG_PORT}/{name}"
    finally:
        await _drop_pg_database(name)


@pytest.fixture
def redis_url() -> Iterator[str]:
    need_service("Redis", REDIS_HOST, REDIS_PORT)
    yield f"redis://{REDIS_HOST}:{REDIS_PORT}/15"


async def wait_until(predicate, timeout: float = 5.0, interval: float = 0.01) -> None:  # type: ignore[no-untyped-def]
    """Wait on a condition with a timeout (never a blind sleep)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(interval)
