"""Callback data of the events feature: ids and short actions only (64 bytes)."""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData


class EventCb(CallbackData, prefix="ev"):
    """A volunteer's button on an event: join | leave | out (check out)."""

    action: str
    event_id: int


class EventStaffCb(CallbackData, prefix="evs"):
    """Staff on an event: card | qr | att | mk | um | cf | cfy | off | offy."""

    action: str
    event_id: int
    user_id: int = 0


class EventFormCb(CallbackData, prefix="evf"):
    """A choice inside the /newevent form: ``field`` names the question, ``value`` the answer."""

    field: str
    value: str


class EventRateCb(CallbackData, prefix="evr"):
    """An attendee rating an event: star (arg 1-5) | cmt (add a comment) | skip (no comment)."""

    action: str
    event_id: int
    arg: str = ""
