"""The [webhook] keys: Telegram's rules for the secret, known update types, and `wishbot run`
refusing webhook mode without a secret (unless --polling)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.cli import main
from bot.config import ConfigError, load_settings

TOKEN = "123456:ABC-def"


def write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(f'[telegram]\ntoken = "{TOKEN}"\n{body}', encoding="utf-8")
    return path


def test_the_example_defaults_and_a_full_webhook_section(tmp_path: Path) -> None:
    settings = load_settings(
        write(
            tmp_path,
            'mode = "webhook"\n[webhook]\nurl = "https://bot.example.org/tg/webhook"\n'
            'secret = "Ab_9-x"\nmax_connections = 100\nallowed_updates = ["message"]\n',
        )
    )
    assert settings.telegram.mode == "webhook"
    assert settings.webhook.secret is not None
    assert settings.webhook.secret.get_secret_value() == "Ab_9-x"
    assert settings.webhook.allowed_updates == ["message"]


@pytest.mark.parametrize(
    ("body", "key"),
    [
        ('[webhook]\nsecret = "has space"\n', "webhook.secret"),
        ('[webhook]\nsecret = ""\n', "webhook.secret"),
        ('[webhook]\nallowed_updates = ["messages"]\n', "webhook.allowed_updates"),
        ("[webhook]\nmax_connections = 101\n", "webhook.max_connections"),
        ('[webhook]\nurl = "ftp://x/y"\n', "webhook.url"),
        ('[webhook]\npath = "tg"\n', "webhook.path"),
        ('mode = "push"\n', "telegram.mode"),
    ],
)
def test_a_bad_value_names_its_key(tmp_path: Path, body: str, key: str) -> None:
    with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
        load_settings(write(tmp_path, body))


def test_run_refuses_webhook_mode_without_a_secret(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write(tmp_path, 'mode = "webhook"\n[staff]\nadmins = [1]\n')
    assert main(["run", "--config", str(config)]) == 2
    assert "webhook.secret is not set" in capsys.readouterr().err


def test_run_polling_overrides_webhook_mode(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "none.db"
    config = write(
        tmp_path,
        f'mode = "webhook"\n[database]\nurl = "sqlite+aiosqlite:///{missing}"\n'
        "[staff]\nadmins = [1]\n",
    )
    # Past the config checks (no complaint about the secret) to the database check.
    assert main(["run", "--polling", "--config", str(config)]) == 2
    err = capsys.readouterr().err
    assert "webhook.secret" not in err and "does not exist" in err
