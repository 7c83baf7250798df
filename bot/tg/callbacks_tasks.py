"""Callback data for offers and tasks: the wish id and a short action, nothing else."""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData


class TaskCb(CallbackData, prefix="t"):
    """Volunteer and resident actions on a task; the handler re-checks who presses."""

    action: str
    wish_id: int
    arg: str = ""


class StaffTaskCb(CallbackData, prefix="st"):
    action: str  # verify | accept | redo | close | why
    wish_id: int
