"""`wishbot bench load` at a small size: nobody's wish lost, doubled or failed (no timings)."""

from __future__ import annotations

import pytest

from bot.demo.load import run_load_bench
from tests.conftest import PG_HOST, PG_PORT, need_service

pytestmark = pytest.mark.e2e

KEYS = {"users", "updates", "errors", "lost", "duplicates", "p50_ms", "p95_ms"}


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
async def test_twenty_residents_and_a_spammer_lose_and_double_nothing(database: str) -> None:
    if database == "postgresql":
        need_service("PostgreSQL", PG_HOST, PG_PORT)
    result = await run_load_bench(users=20, database=database, spam=60)
    assert KEYS | {"p95_ms_without_spammer"} <= set(result)
    assert result["users"] == 20
    assert result["updates"] == 2 * (2 * 20) + 60
    assert result["errors"] == 0
    assert result["lost"] == 0
    assert result["duplicates"] == 0
    assert result["spam_ignored"] > 0  # the throttle cut the flood short
