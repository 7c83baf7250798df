"""Errors a person can cause; each carries the locale key of the kind message they get."""

from __future__ import annotations

from typing import Any


class UserError(Exception):
    """Refused: nothing changed. ``key`` names the text in bot/locales, ``params`` fills it."""

    def __init__(self, key: str, **params: Any) -> None:
        super().__init__(key)
        self.key = key
        self.params = params
