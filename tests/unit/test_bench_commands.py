"""`wishbot bench offer` and `bench pipeline` run end to end at tiny sizes and report sane
figures (their shape and counts; never a speed)."""

from __future__ import annotations

import json

import pytest

from bot.bench.offer import run_offer_bench
from bot.cli import main

pytestmark = pytest.mark.e2e

OFFER_KEYS = {
    "database", "volunteers", "wishes", "grids", "seed_seconds",
    "confirm_to_offer_p50_ms", "confirm_to_offer_p95_ms", "confirm_samples", "offers_missing",
    "others_start_p95_ms", "others_start_count",
    "claim_p95_ms", "claim_winner_ms", "claim_answers", "claim_winners", "claim_rounds",
    "presser_first",
}  # fmt: skip


async def test_bench_offer_reports_every_figure() -> None:
    result = await run_offer_bench(60, 300, "sqlite", samples=2, claim_rounds=1)
    assert set(result) == OFFER_KEYS
    assert result["volunteers"] == 60 and result["grids"] == 3
    assert result["confirm_samples"] == 2 and result["offers_missing"] == 0
    assert 0 < result["confirm_to_offer_p50_ms"] <= result["confirm_to_offer_p95_ms"]
    assert result["others_start_count"] > 0 and result["others_start_p95_ms"] > 0
    # One winner among the 50 pressers, everyone answered, the winner before anyone was told.
    assert result["claim_answers"] == 50 and result["claim_winners"] == 1
    assert result["presser_first"] is True
    assert result["claim_p95_ms"] > 0 and result["claim_winner_ms"] > 0


def test_bench_pipeline_command_prints_rates_and_ratios(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench", "pipeline", "--updates", "6", "--concurrency", "2", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["updates"] == 6 and result["concurrency"] == 2
    for kind in ("echo", "start", "wish"):
        assert result[kind]["rate"] > 0 and result[kind]["cpu_ms"] > 0
    for kind in ("start", "wish"):
        expected = round(result[kind]["rate"] / result["echo"]["rate"], 3)
        assert result[kind]["ratio"] == pytest.approx(expected, abs=0.002)
