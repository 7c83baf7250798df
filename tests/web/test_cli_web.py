"""`wishbot web` and `wishbot bench dashboard` on the command line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.cli import main


def test_web_refuses_to_start_when_the_dashboard_is_off(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[database]\nurl = "sqlite+aiosqlite:///x.db"\n', encoding="utf-8")
    assert main(["web", "--config", str(config)]) == 2
    assert "web.host is not set" in capsys.readouterr().err


def test_bench_dashboard_reports_figures_on_a_small_sqlite_district(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code = main(
        ["bench", "dashboard", "--wishes", "300", "--volunteers", "100", "--database", "sqlite",
         "--runs", "2", "--json"]
    )  # fmt: skip
    assert code == 0
    result = json.loads(capsys.readouterr().out)
    assert result["wishes"] == 300 and result["grids"] == 3
    for key in ("overview_30d", "overview_big_cached", "search_text", "search_number"):
        assert set(result[key]) == {"p50_ms", "p95_ms"}
