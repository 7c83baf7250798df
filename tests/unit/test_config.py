from __future__ import annotations

from pathlib import Path

import pytest

from bot.cli import main
from bot.config import ConfigError, load_settings


def test_defaults_without_a_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("WISHBOT_CONFIG", raising=False)
    settings = load_settings()
    assert settings.database.url == "sqlite+aiosqlite:///wishbot.db"
    assert settings.community.timezone == "Asia/Shanghai"
    assert settings.community.default_language == "zh-CN"
    assert settings.categories.ids[0] == "repair" and settings.categories.ids[-1] == "other"
    assert len(settings.categories.ids) == 13


def test_the_example_config_loads(monkeypatch: pytest.MonkeyPatch) -> None:
    example = Path(__file__).resolve().parents[2] / "config.example.toml"
    settings = load_settings(example)
    assert settings.community.grids


def test_environment_overrides_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "c.toml"
    path.write_text('[telegram]\ntoken = "1:file"\n[community]\nname = "A"\n', encoding="utf-8")
    monkeypatch.setenv("WISHBOT__TELEGRAM__TOKEN", "2:env")
    settings = load_settings(path)
    assert settings.telegram.token is not None
    assert settings.telegram.token.get_secret_value() == "2:env"
    assert settings.community.name == "A"


@pytest.mark.parametrize(
    ("toml", "key"),
    [
        ('[community]\ntimezone = "Mars/Base"\n', "community.timezone"),
        ('[database]\nurl = "mysql://x"\n', "database.url"),
        ('[telegram]\ntoken = "nonsense"\n', "telegram.token"),
        ("[wishes]\nmax_length = 5\n", "wishes.max_length"),
        ("[nonsense]\nx = 1\n", "nonsense"),
        ('[categories.items.repair]\nreview = "maybe"\n', "categories"),
    ],
)
def test_a_bad_key_is_named_in_one_line(tmp_path: Path, toml: str, key: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(toml, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_settings(path)
    message = str(info.value)
    assert key in message and "\n" not in message


def test_cli_prints_one_line_for_a_broken_config(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "bad.toml"
    path.write_text('[community]\ntimezone = "Nowhere"\n', encoding="utf-8")
    assert main(["--config", str(path), "migrate"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "community.timezone" in err


def test_category_override_changes_one_field(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text('[categories.items.repair]\nreview = "auto"\n', encoding="utf-8")
    repair = load_settings(path).categories.get("repair")
    assert repair is not None and repair.review == "auto" and repair.name_zh == "家居维修"


def test_grids_from_csv(tmp_path: Path) -> None:
    csv_path = tmp_path / "grids.csv"
    csv_path.write_text(
        "code,name,community\nA1,一网格,东社区\nA2,二网格,东社区\n", encoding="utf-8"
    )
    path = tmp_path / "c.toml"
    path.write_text(f'[community]\ngrids_csv = "{csv_path}"\n', encoding="utf-8")
    grids = load_settings(path).community.grids
    assert [g.code for g in grids] == ["A1", "A2"] and grids[0].community == "东社区"
