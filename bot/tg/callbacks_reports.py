"""Callback data of the reports feature (ids and a short action only: 64 bytes at most)."""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData


class RosterCb(CallbackData, prefix="ros"):
    """Import or cancel a checked roster batch; the service re-checks who may."""

    action: str  # go | no
    batch_id: int
