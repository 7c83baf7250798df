"""Every command in a menu has a handler and a description in both languages."""

from __future__ import annotations

import re
from pathlib import Path

from bot.i18n import LANGUAGES
from bot.tg.commands import BASE, BY_ROLE, commands_for

HANDLERS = Path(__file__).resolve().parents[2] / "handlers"


def test_every_menu_command_is_handled() -> None:
    source = "\n".join(p.read_text(encoding="utf-8") for p in HANDLERS.rglob("*.py"))
    handled = set(re.findall(r'Command\(\s*"([a-z_]+)"', source)) | {"start"}
    menu = set(BASE) | {name for names in BY_ROLE.values() for name in names}
    assert sorted(menu - handled) == []


def test_menus_render_in_both_languages() -> None:
    everyone = frozenset(BY_ROLE)
    for lang in LANGUAGES:
        commands = commands_for(everyone, lang)
        assert len({c.command for c in commands}) == len(commands)
        assert all(0 < len(c.description) <= 256 for c in commands)
