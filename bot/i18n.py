"""User-facing texts: TOML per language in bot/locales, nested tables as dotted keys.

`bot/locales/<lang>.toml` holds the core texts; a feature may keep its own texts in
`bot/locales/<lang>/<feature>.toml`. A key defined twice is an error, not a silent override.

Plurals: `{n:plural:# wish|# wishes}` picks the first form when n is 1 and the second
otherwise, with `#` replaced by n. Chinese texts simply write `{n} 个心愿`. A small format
spec, not Fluent or gettext: it keeps the one-file-per-language TOML catalogue and its
completeness test, and English is the only language here that inflects.
"""

from __future__ import annotations

import string
import tomllib
from functools import cache
from pathlib import Path
from typing import Any

LOCALES_DIR = Path(__file__).parent / "locales"
LANGUAGES = ("zh-CN", "en")
DEFAULT_LANGUAGE = "zh-CN"


def _flatten(table: dict[str, Any], prefix: str = "") -> dict[str, str]:
    flat: dict[str, str] = {}
    for key, value in table.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{name}."))
        else:
            flat[name] = str(value)
    return flat


@cache
def catalog(lang: str) -> dict[str, str]:
    files = [LOCALES_DIR / f"{lang}.toml", *sorted((LOCALES_DIR / lang).glob("*.toml"))]
    texts: dict[str, str] = {}
    for path in files:
        with path.open("rb") as fh:
            part = _flatten(tomllib.load(fh))
        clash = texts.keys() & part.keys()
        if clash:
            raise ValueError(f"{path}: keys defined twice: {sorted(clash)[:5]}")
        texts.update(part)
    return texts


class _TextFormatter(string.Formatter):
    """str.format plus the `plural:` format spec (see the module's docstring)."""

    def format_field(self, value: Any, format_spec: str) -> str:
        if format_spec.startswith("plural:"):
            forms = format_spec.removeprefix("plural:").split("|")
            if len(forms) != 2:
                raise ValueError(f"plural needs two forms: {format_spec!r}")
            one, other = forms
            return (one if value == 1 else other).replace("#", str(value))
        return str(super().format_field(value, format_spec))


_FORMATTER = _TextFormatter()


def render_text(text: str, /, **params: Any) -> str:
    return _FORMATTER.format(text, **params)


def normalize_language(code: str | None) -> str:
    """Map Telegram's language_code (IETF tag, e.g. 'zh-hans', 'en-US') to ours."""
    if not code:
        return DEFAULT_LANGUAGE
    code = code.lower()
    if code.startswith("zh"):
        return "zh-CN"
    if code.startswith("en"):
        return "en"
    return DEFAULT_LANGUAGE


class Translator:
    """Texts of one language. Unknown keys raise: a missing text is a bug, not a blank."""

    __slots__ = ("_texts", "lang")

    def __init__(self, lang: str) -> None:
        self.lang = lang if lang in LANGUAGES else DEFAULT_LANGUAGE
        self._texts = catalog(self.lang)

    def __call__(self, key: str, /, **params: Any) -> str:
        text = self._texts[key]
        return _FORMATTER.format(text, **params) if params else text

    def has(self, key: str) -> bool:
        return key in self._texts


def t(lang: str, key: str, /, **params: Any) -> str:
    return Translator(lang)(key, **params)
