"""The command line: help, migrate, classify's JSON contract, the match benchmark's contract."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from bot.classify_cli import classify_stream
from bot.cli import build_parser, main, safe_url
from bot.config import Settings


def test_help_lists_the_commands(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args(["--help"])
    out = capsys.readouterr().out
    for command in ("run", "migrate", "demo", "classify", "poster", "bench"):
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


# ----------------------------------------------------------------------------- first hour


def test_run_checks_the_token_before_the_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("WISHBOT__DATABASE__URL", f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}")
    monkeypatch.delenv("WISHBOT__TELEGRAM__TOKEN", raising=False)
    monkeypatch.chdir(tmp_path)
    assert main(["run"]) == 2
    err = capsys.readouterr().err
    assert "telegram.token" in err and "@BotFather" in err
    assert "migrate" not in err  # not sent to `migrate` first: the token is what is missing
    assert not (tmp_path / "empty.db").exists()


def test_run_warns_when_nobody_can_invite_staff(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("WISHBOT__DATABASE__URL", f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}")
    monkeypatch.setenv("WISHBOT__TELEGRAM__TOKEN", "123:abc")
    monkeypatch.chdir(tmp_path)
    main(["run"])
    err = capsys.readouterr().err
    assert "staff.admins is empty" in err and "/myid" in err


def test_config_is_accepted_after_the_subcommand(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    config = tmp_path / "x.toml"
    config.write_text('[community]\ntimezone = "Mars/Base"\n', encoding="utf-8")
    assert main(["run", "--config", str(config)]) == 2
    assert "Mars/Base" in capsys.readouterr().err
    args = build_parser().parse_args(["--config", "a.toml", "migrate"])
    assert args.config == "a.toml"  # before the subcommand still works
    assert build_parser().parse_args(["bench", "match", "--config", "b.toml"]).config == "b.toml"


def test_migrate_names_the_database_it_migrated(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("WISHBOT__DATABASE__URL", f"sqlite+aiosqlite:///{tmp_path / 'new.db'}")
    monkeypatch.chdir(tmp_path)
    assert main(["migrate"]) == 0
    assert str(tmp_path / "new.db") in capsys.readouterr().out


def test_printed_database_urls_hide_the_password() -> None:
    shown = safe_url("postgresql+asyncpg://wish:s3cret@db.example:5432/wishbot")
    assert "s3cret" not in shown and "db.example:5432/wishbot" in shown


def test_each_command_and_bench_kind_describes_itself(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args(["--help"])
    out = capsys.readouterr().out
    assert "run the bot for real" in out and "create or upgrade the database" in out
    with pytest.raises(SystemExit):
        build_parser().parse_args(["bench", "match", "--help"])
    match_help = capsys.readouterr().out
    assert "--volunteers" in match_help and "--recipients" not in match_help
    with pytest.raises(SystemExit):
        build_parser().parse_args(["bench", "broadcast", "--help"])
    broadcast_help = capsys.readouterr().out
    assert "--recipients" in broadcast_help and "--volunteers" not in broadcast_help
