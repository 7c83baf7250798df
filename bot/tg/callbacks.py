"""Callback data: ids and a short action only (Telegram allows 64 bytes; never put text here)."""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData


class LangCb(CallbackData, prefix="lang"):
    code: str


class RoleCb(CallbackData, prefix="role"):
    role: str  # resident | volunteer


class GridCb(CallbackData, prefix="grid"):
    action: str  # pick | page
    value: int


class ChoiceCb(CallbackData, prefix="ch"):
    """A single choice inside a form: ``field`` names the question, ``value`` the answer."""

    field: str
    value: str


class ToggleCb(CallbackData, prefix="tg"):
    """Multi-select: toggle item ``value`` of list ``field``; value "*" means done."""

    field: str
    value: str


class VolunteerReviewCb(CallbackData, prefix="vr"):
    action: str  # ok | no
    user_id: int


class MeCb(CallbackData, prefix="me"):
    field: str


class ConfirmDeleteCb(CallbackData, prefix="del"):
    yes: bool


class WishCb(CallbackData, prefix="w"):
    """Any action on a wish or task; the handler re-checks that the presser may do it."""

    action: str
    wish_id: int
    arg: str = ""
