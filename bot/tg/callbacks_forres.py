"""Callback data of filing on behalf (代办): a short action, a wish id (0 in the form), an arg."""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData


class ForResCb(CallbackData, prefix="fr"):
    """pick (arg: the record's user id) | new | cons (arg: spoken|signed|no) | ok | chcat |
    setcat (arg: category) | drop, in the filer's form (wish 0); conf (arg: 1-5 stars) on a
    finished task the filer confirms with the resident in person."""

    action: str
    wish_id: int
    arg: str = ""
