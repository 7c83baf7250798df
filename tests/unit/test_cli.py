"""The command line: help, migrate, classify's JSON contract, the match benchmark's contract."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from bot.classify_cli import classify_stream
from bot.cli import build_parser, main
from bot.config import Settings


def test_help_lists_the_commands(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args(["--help"])
    out = capsys.readouterr().out
    for command in ("run", "migrate", "demo", "classify", "bench"):
        assert command in out


def test_migrate_creates_an_empty_sqlite_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WISHBOT__DATABASE__URL", f"sqlite+aiosqlite:///{tmp_path / 'new.db'}")
    monkeypatch.chdir(tmp_path)
    assert main(["migrate"]) == 0
    assert (tmp_path / "new.db").exists()


def test_run_refuses_an_old_schema(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("WISHBOT__DATABASE__URL", f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}")
    monkeypatch.setenv("WISHBOT__TELEGRAM__TOKEN", "123:abc")
    monkeypatch.chdir(tmp_path)
    assert main(["run"]) == 2
    assert "wishbot migrate" in capsys.readouterr().err


def test_classify_writes_one_json_object_per_line_in_order() -> None:
    lines = [
        "厨房水管漏水了，周六上午有人能来修吗",
        "",
        "urgent: my grandma fell, need someone ASAP",
        "想找律师问问遗产的事",
    ]
    out = io.StringIO()
    classify_stream(Settings(), io.StringIO("\n".join(lines) + "\n"), out)
    rows = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [r["text"] for r in rows] == lines
    ids = set(Settings().categories.ids)
    for row in rows:
        assert set(row) == {
            "text",
            "category",
            "confidence",
            "alternatives",
            "time_window",
            "urgent",
        }
        assert row["category"] in ids and 0 <= row["confidence"] <= 1
        assert row["category"] not in row["alternatives"] and set(row["alternatives"]) <= ids
        assert row["time_window"] is None or set(row["time_window"]) == {"start", "end"}
    assert rows[0]["category"] == "repair" and rows[3]["category"] == "legal"
    assert rows[2]["urgent"] is True and rows[0]["urgent"] is False


def test_bench_match_prints_the_contract(capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        main(["bench", "match", "--volunteers", "2000", "--wishes", "20", "--seed", "1", "--json"])
        == 0
    )
    result = json.loads(capsys.readouterr().out)
    assert {"volunteers", "wishes", "p50_ms", "p95_ms", "naive_p95_ms"} <= set(result)
    assert result["volunteers"] == 2000 and result["wishes"] == 20
    assert result["p95_ms"] < result["naive_p95_ms"]
