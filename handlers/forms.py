"""Pieces shared by the registration and profile forms: the grid picker and toggles."""

from __future__ import annotations

from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State
from aiogram.types import CallbackQuery, Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot.i18n import Translator
from bot.services.errors import UserError
from bot.services.people import grids, registration
from bot.services.people.actors import Actor
from bot.tg import keyboards as kb
from bot.tg.callbacks import GridCb


async def ask_grid(message: Message, t: Translator, session: AsyncSession) -> None:
    options = await grids.active_grids(session)
    await message.answer(t("forms.grid_ask"), reply_markup=kb.grid_page(t, options, 0))


async def grid_page(
    query: CallbackQuery, callback_data: GridCb, t: Translator, session: AsyncSession
) -> None:
    options = await grids.active_grids(session)
    await query.answer()
    if query.message is not None:
        await query.message.edit_reply_markup(  # type: ignore[union-attr]
            reply_markup=kb.grid_page(t, options, callback_data.value)
        )


async def grid_typed(message: Message, t: Translator, session: AsyncSession) -> None:
    """The person typed part of a grid's name instead of paging."""
    options = await grids.active_grids(session)
    matches = grids.search_grids(options, message.text or "")
    if not matches:
        await message.answer(t("forms.grid_none"), reply_markup=kb.grid_page(t, options, 0))
        return
    await message.answer(t("forms.grid_matches"), reply_markup=kb.grid_matches(matches))


async def picked_grid(
    query: CallbackQuery, callback_data: GridCb, session: AsyncSession, t: Translator
) -> grids.GridView | None:
    grid = await grids.grid_by_id(session, callback_data.value)
    if grid is None:
        await query.answer(t("forms.grid_gone"), show_alert=True)
        return None
    await query.answer()
    if query.message is not None:
        await query.message.edit_text(t("forms.grid_chosen", grid=grid.name))  # type: ignore[union-attr]
    return grid


async def grid_pressed(
    query: CallbackQuery, callback_data: GridCb, t: Translator, session: AsyncSession
) -> grids.GridView | None:
    """A press on the grid picker: a page turn is shown here (None); a pick gives its grid."""
    if callback_data.action == "page":
        await grid_page(query, callback_data, t, session)
        return None
    return await picked_grid(query, callback_data, session, t)


def toggle(values: list[str], value: str) -> list[str]:
    return [v for v in values if v != value] if value in values else [*values, value]


async def store(state: FSMContext, **values: object) -> None:
    await state.update_data(values)


async def typed_text(message: Message, t: Translator, max_len: int) -> str | None:
    """A typed answer, cleaned; None when it is unusable (the user is told why, kindly)."""
    try:
        return registration.clean_text(message.text or "", max_len, "errors.text_length")
    except UserError as err:
        await message.answer(t(err.key, **err.params))
        return None


async def step_message(
    query: CallbackQuery, state: FSMContext, t: Translator, wanted: State | None
) -> Message | None:
    """The form's message when this press belongs to the step the form is at (``wanted``);
    otherwise the press is refused as a stale button (None)."""
    message = query.message
    if (
        wanted is None
        or not isinstance(message, Message)
        or await state.get_state() != wanted.state
    ):
        await query.answer(t("errors.stale_button"), show_alert=True)
        return None
    return message


async def own_phone(message: Message, actor: Actor, t: Translator) -> str | None:
    """The phone of a shared contact, when it is the person's own; else they are told (None)."""
    contact = message.contact
    assert contact is not None
    if contact.user_id != actor.telegram_id:
        await message.answer(t("resident.phone_not_own"))
        return None
    return registration.clean_phone(contact.phone_number)
