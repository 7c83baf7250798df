"""Every text exists in zh-CN and en with the same placeholders; every key used in code exists."""

from __future__ import annotations

import re
import string
from pathlib import Path

from bot.i18n import LANGUAGES, catalog

ROOT = Path(__file__).resolve().parents[2]
KEY_IN_CODE = re.compile(r"""(?:\bt|UserError|Notice)\(\s*"([a-z_]+(?:\.[a-z0-9_]+)+)\"""")


def _placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_both_languages_have_the_same_keys() -> None:
    zh, en = catalog("zh-CN"), catalog("en")
    assert sorted(set(zh) - set(en)) == [], "missing in en"
    assert sorted(set(en) - set(zh)) == [], "missing in zh-CN"


def test_placeholders_match_between_languages() -> None:
    zh, en = catalog("zh-CN"), catalog("en")
    wrong = {
        k: (_placeholders(zh[k]), _placeholders(en[k]))
        for k in zh
        if _placeholders(zh[k]) != _placeholders(en.get(k, ""))
    }
    assert wrong == {}


def test_every_literal_key_used_in_code_exists() -> None:
    used: set[str] = set()
    for folder in ("bot", "handlers"):
        for path in (ROOT / folder).rglob("*.py"):
            if "fakeapi" in path.parts:
                continue
            used |= set(KEY_IN_CODE.findall(path.read_text(encoding="utf-8")))
    import handlers
    from bot.tg.dispatcher import build_dispatcher  # noqa: F401
    from bot.tg.render import RENDERERS

    handlers.routers()
    used -= set(RENDERERS)  # notice kinds with their own renderer are not locale keys
    for lang in LANGUAGES:
        missing = sorted(k for k in used if k not in catalog(lang))
        assert missing == [], f"{lang} lacks {missing}"


def test_status_texts_cover_every_wish_state() -> None:
    from bot.services.intake.wish_states import STATES

    for lang in LANGUAGES:
        assert {f"status.wish.{s}" for s in STATES} <= set(catalog(lang))
