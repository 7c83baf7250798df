"""The broadcast benchmark keeps its contract (small, so it runs with the suite)."""

from __future__ import annotations

from bot.delivery.bench import run_broadcast_bench

KEYS = {
    "recipients", "delivered", "blocked", "invalid", "failed", "unknown", "duplicates", "lost",
    "configured_rate", "achieved_rate", "wall_rate", "max_rate_1s",
}  # fmt: skip


async def test_bench_reports_the_contract_delivers_all_once_and_keeps_the_ceiling() -> None:
    result = await run_broadcast_bench(400, 200, 0.05, seed=5)
    assert set(result) == KEYS
    assert result["recipients"] == 400
    settled = sum(result[k] for k in ("delivered", "blocked", "invalid", "failed", "unknown"))
    assert settled == 400
    assert result["blocked"] > 0 and result["invalid"] > 0 and result["unknown"] > 0
    assert result["lost"] == 0
    assert result["duplicates"] <= result["unknown"]
    assert result["max_rate_1s"] <= result["configured_rate"]
    # Speed is a figure the CLI reports (`wishbot bench broadcast`), never a test assertion:
    # a loaded machine must not fail the suite. What is checked here is behaviour.
    assert result["achieved_rate"] > 0
    assert result["wall_rate"] > 0  # pauses after a 429 included: what a sender waits
