"""Callback data of the points feature: ids and short actions only (64 bytes)."""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData


class PassbookCb(CallbackData, prefix="pb"):
    action: str  # csv | public | private | rank


class RankCb(CallbackData, prefix="rk"):
    scope: str  # grid | community | all
    period: str  # month | quarter | year


class ShopCb(CallbackData, prefix="sh"):
    action: str  # list | view | buy | mine | cancel
    id: int = 0  # a reward id (view, buy) or a redemption id (cancel)


class RewardAdminCb(CallbackData, prefix="rw"):
    action: str  # list | new | view | edit | on | off
    id: int = 0
    field: str = ""  # for edit: name | price | stock | per_person_limit | pickup_place


class RedemptionCb(CallbackData, prefix="rd"):
    action: str  # give | cancel
    id: int


class DeclarationCb(CallbackData, prefix="dc"):
    action: str  # ok (suggested points) | pts (type another number) | no (reject)
    id: int


class DeclareFormCb(CallbackData, prefix="df"):
    action: str  # skip | send


class AdjustCb(CallbackData, prefix="adj"):
    action: str  # pick | ok
    user_id: int = 0
