"""Callback data of broadcasts: ids and short actions only (64 bytes, never text)."""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData


class BroadcastFormCb(CallbackData, prefix="bcf"):
    """A choice while composing: ``field`` is aud | g | gp | c | s | t | ok; ``value`` the answer.

    aud: audience kind; g: toggle grid id ("*" = done); gp: grid page; c: community index;
    s: toggle skill ("*" = done); t: toggle slot ("*" = done); ok: send | again | drop.
    """

    field: str
    value: str


class BroadcastCb(CallbackData, prefix="bc"):
    """Staff on a running broadcast: pause | resume | cancel | refresh."""

    action: str
    broadcast_id: int
