"""Callback data of patrols, hazards and standing posts: ids and short actions only (64 bytes)."""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData


class PatrolCb(CallbackData, prefix="pt"):
    """A patroller on a shift: view | join | leave | loc (check in by location) | code."""

    action: str
    shift_id: int


class PatrolStaffCb(CallbackData, prefix="pts"):
    """Staff on a shift: card | qr | rq | roll | stop | open | end | endy | off | offy | hz."""

    action: str
    shift_id: int


class PatrolFormCb(CallbackData, prefix="ptf"):
    """A choice inside the /newpatrol form: ``field`` names the question, ``value`` the answer."""

    field: str
    value: str


class HazardFormCb(CallbackData, prefix="hzf"):
    """A choice inside /hazard: kind | photo (skip) | loc (skip) | note (skip)."""

    field: str
    value: str


class HazardCb(CallbackData, prefix="hz"):
    """Staff deciding a hazard: wish | esc (choose a department) | esd (arg: department) | no."""

    action: str
    hazard_id: int
    arg: str = ""


class PostCb(CallbackData, prefix="po"):
    """A member on a post: view | claim | ci (check in) | back | backy (give it back)."""

    action: str
    post_id: int


class PostStaffCb(CallbackData, prefix="pos"):
    """Staff on posts: card | end | endy (end the term) | bc (broadcast the vacancies)."""

    action: str
    post_id: int


class PostFormCb(CallbackData, prefix="pof"):
    """A choice inside the /newpost form."""

    field: str
    value: str
