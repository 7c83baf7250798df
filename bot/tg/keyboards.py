"""Inline keyboards built from callback data; texts come from the caller's translator."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

# InlineKeyboard* are re-exported: handlers annotate with kb.InlineKeyboardMarkup.
from aiogram.types import InlineKeyboardButton as InlineKeyboardButton
from aiogram.types import InlineKeyboardMarkup as InlineKeyboardMarkup
from aiogram.types import KeyboardButton, ReplyKeyboardMarkup, ReplyKeyboardRemove
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.i18n import Translator
from bot.services.people.grids import GridView
from bot.tg.callbacks import ChoiceCb, GridCb, LangCb, ToggleCb

GRID_PAGE_SIZE = 8


def button(text: str, data: str) -> InlineKeyboardButton:
    return InlineKeyboardButton(text=text, callback_data=data)


def rows(*rows_: Sequence[InlineKeyboardButton]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=[list(r) for r in rows_ if r])


def languages() -> InlineKeyboardMarkup:
    return rows(
        [
            button("中文", LangCb(code="zh-CN").pack()),
            button("English", LangCb(code="en").pack()),
        ]
    )


def grid_page(t: Translator, grids: Sequence[GridView], page: int) -> InlineKeyboardMarkup:
    pages = max(1, (len(grids) + GRID_PAGE_SIZE - 1) // GRID_PAGE_SIZE)
    page = min(max(page, 0), pages - 1)
    chunk = grids[page * GRID_PAGE_SIZE : (page + 1) * GRID_PAGE_SIZE]
    builder = InlineKeyboardBuilder()
    for grid in chunk:
        builder.row(button(grid.name, GridCb(action="pick", value=grid.id).pack()))
    nav = []
    if page > 0:
        nav.append(button(t("common.prev"), GridCb(action="page", value=page - 1).pack()))
    if page < pages - 1:
        nav.append(button(t("common.next"), GridCb(action="page", value=page + 1).pack()))
    if nav:
        builder.row(*nav)
    return builder.as_markup()


def grid_matches(grids: Iterable[GridView]) -> InlineKeyboardMarkup:
    return rows(*[[button(g.name, GridCb(action="pick", value=g.id).pack())] for g in grids])


def choices(
    field: str, options: Sequence[tuple[str, str]], per_row: int = 2
) -> InlineKeyboardMarkup:
    """``options`` are (value, label) pairs."""
    builder = InlineKeyboardBuilder()
    for value, label in options:
        builder.button(text=label, callback_data=ChoiceCb(field=field, value=value).pack())
    builder.adjust(per_row)
    return builder.as_markup()


def toggles(
    t: Translator,
    field: str,
    options: Sequence[tuple[str, str]],
    selected: Iterable[str],
    per_row: int = 2,
) -> InlineKeyboardMarkup:
    chosen = set(selected)
    builder = InlineKeyboardBuilder()
    for value, label in options:
        mark = "✅ " if value in chosen else ""
        builder.button(
            text=f"{mark}{label}", callback_data=ToggleCb(field=field, value=value).pack()
        )
    builder.adjust(per_row)
    builder.row(button(t("common.done"), ToggleCb(field=field, value="*").pack()))
    return builder.as_markup()


def share_contact(t: Translator) -> ReplyKeyboardMarkup:
    return ReplyKeyboardMarkup(
        keyboard=[
            [KeyboardButton(text=t("resident.share_phone_button"), request_contact=True)],
            [KeyboardButton(text=t("common.skip"))],
        ],
        resize_keyboard=True,
        one_time_keyboard=True,
    )


def remove_reply_keyboard() -> ReplyKeyboardRemove:
    return ReplyKeyboardRemove()
