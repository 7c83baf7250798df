"""Callback data of suggestions (社情民意): ids and short actions only (64 bytes)."""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData


class SuggestDraftCb(CallbackData, prefix="sgd"):
    """The resident's choice for a message read as a suggestion: as | wish | drop."""

    action: str


class SuggestCb(CallbackData, prefix="sg"):
    """A suggestion's buttons. Staff: view | ans | fix | own (arg: owner id) | due (arg:
    owner-days) | done | dec. The resident: sat | uns (satisfied or not)."""

    action: str
    suggestion_id: int
    arg: str = ""
