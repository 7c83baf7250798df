"""The steps the volunteer (在职党员) registration and the 群众志愿者 sign-up (/helper) share:
the skills and free-time multi-selects, and the confirm / cancel / submitted ending."""

from __future__ import annotations

from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message

from bot.i18n import Translator
from bot.services.context import AppContext
from bot.services.people.actors import Actor
from bot.tg import keyboards as kb
from bot.tg.callbacks import ChoiceCb, ToggleCb
from bot.tg.commands import refresh_commands
from handlers import forms


def skills_keyboard(t: Translator, app: AppContext, selected: list[str]) -> kb.InlineKeyboardMarkup:
    options = [(c.id, c.name(t.lang)) for c in app.settings.categories.resolved]
    return kb.toggles(t, "skills", options, selected)


def slots_keyboard(t: Translator, app: AppContext, selected: list[str]) -> kb.InlineKeyboardMarkup:
    options = [(s.id, s.name(t.lang)) for s in app.settings.volunteers.slots]
    return kb.toggles(t, "slots", options, selected, per_row=3)


async def toggle_step(
    query: CallbackQuery, callback_data: ToggleCb, state: FSMContext, t: Translator, app: AppContext
) -> list[str] | None:
    """Skills and free-time slots: multi-select; "done" needs at least one choice.

    The choices when "done" was pressed with one made (the press is not answered yet: the
    caller answers it and goes on); None when the press was handled here (toggle, refusal)."""
    field = callback_data.field
    data = await state.get_data()
    selected: list[str] = list(data.get(field, []))
    if callback_data.value == "*":
        if not selected:
            await query.answer(t("volunteer.choose_one"), show_alert=True)
            return None
        return selected
    valid = (
        app.settings.categories.ids
        if field == "skills"
        else [s.id for s in app.settings.volunteers.slots]
    )
    if callback_data.value not in valid:
        await query.answer(t("errors.stale_button"), show_alert=True)
        return None
    selected = forms.toggle(selected, callback_data.value)
    await state.update_data({field: selected})
    await query.answer()
    markup = (skills_keyboard if field == "skills" else slots_keyboard)(t, app, selected)
    if query.message is not None:
        await query.message.edit_reply_markup(reply_markup=markup)  # type: ignore[union-attr]
    return None


async def confirm_pressed(
    query: CallbackQuery, callback_data: ChoiceCb, state: FSMContext, t: Translator
) -> bool:
    """The summary's submit / cancel: True for submit; a cancel clears the form and says so."""
    await query.answer()
    if query.message is None:
        return False
    if callback_data.value != "yes":
        await state.clear()
        await query.message.answer(t("common.cancelled"))
        return False
    return True


async def submitted(
    query: CallbackQuery, state: FSMContext, actor: Actor, app: AppContext, text: str
) -> None:
    """The form is stored: clear it, drop the summary's buttons, say so, refresh the menu."""
    await state.clear()
    if query.message is not None:
        await query.message.edit_reply_markup(reply_markup=None)  # type: ignore[union-attr]
        await query.message.answer(text)
    await refresh_commands(query.bot, app, actor.user_id)


async def use_buttons(message: Message, t: Translator) -> None:
    await message.answer(t("forms.use_buttons"))
