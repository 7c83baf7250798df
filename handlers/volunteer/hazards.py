"""/hazard during a patrol: the kind, a photo (its file id only), the location, a note → filed
for the grid's staff to decide (handlers/staff/patrols.py)."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command, Filter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, KeyboardButton, Message, ReplyKeyboardMarkup
from sqlalchemy.ext.asyncio import AsyncSession

from bot.i18n import Translator
from bot.services.context import AppContext
from bot.services.errors import UserError
from bot.services.patrols import hazards
from bot.services.people.actors import Actor
from bot.tg import keyboards as kb
from bot.tg import once
from bot.tg import patrol_cards as cards
from bot.tg.callbacks_patrols import HazardFormCb
from bot.tg.filters import PrivateChat, TypedText
from handlers import forms
from handlers.volunteer.patrols import HasLocation, location_keyboard


class HasPhoto(Filter):
    async def __call__(self, message: Message) -> bool:
        return bool(message.photo)


class HazardForm(StatesGroup):
    kind = State()
    photo = State()
    location = State()
    note = State()


def router() -> Router:
    r = Router(name="volunteer.hazards")
    r.message.filter(PrivateChat())
    r.callback_query.filter(PrivateChat())
    r.message.register(start_report, Command("hazard"))
    r.callback_query.register(form_choice, HazardFormCb.filter())
    r.message.register(photo_sent, HazardForm.photo, HasPhoto())
    r.message.register(ask_photo_again, HazardForm.photo)
    r.message.register(location_sent, HazardForm.location, HasLocation())
    r.message.register(location_text, HazardForm.location)
    r.message.register(note_typed, HazardForm.note, TypedText())
    r.message.register(answer_in_words, HazardForm.note)
    r.message.register(use_buttons, HazardForm.kind)
    return r


def skip_keyboard(t: Translator) -> ReplyKeyboardMarkup:
    """A reply keyboard with just Skip (it sends its text), replacing the location one."""
    return ReplyKeyboardMarkup(
        keyboard=[[KeyboardButton(text=t("common.skip"))]],
        resize_keyboard=True,
        one_time_keyboard=True,
    )


def _skip(t: Translator, field: str) -> kb.InlineKeyboardMarkup:
    return kb.rows([kb.button(t("common.skip"), HazardFormCb(field=field, value="-").pack())])


async def start_report(
    message: Message,
    state: FSMContext,
    actor: Actor,
    t: Translator,
    session: AsyncSession,
    app: AppContext,
) -> None:
    try:
        shift_id = await hazards.may_report(app, session, actor.user_id)
    except UserError as err:
        await message.answer(t(err.key, **err.params))
        return
    await state.set_state(HazardForm.kind)
    await state.set_data({"shift_id": shift_id})
    buttons = [
        kb.button(cards.kind_name(t, kind), HazardFormCb(field="kind", value=kind).pack())
        for kind in app.settings.patrols.hazard_kinds
    ]
    markup = kb.rows(*[buttons[i : i + 2] for i in range(0, len(buttons), 2)])
    await message.answer(t("patrols.hazard.kind_ask"), reply_markup=markup)


async def use_buttons(message: Message, t: Translator) -> None:
    await message.answer(t("forms.use_buttons"))


async def answer_in_words(message: Message, t: Translator) -> None:
    await message.answer(t("forms.use_buttons_or_text"), reply_markup=skip_keyboard(t))


async def form_choice(
    query: CallbackQuery,
    callback_data: HazardFormCb,
    state: FSMContext,
    actor: Actor,
    t: Translator,
    session: AsyncSession,
    app: AppContext,
) -> None:
    expected = {"kind": HazardForm.kind, "photo": HazardForm.photo}
    field, value = callback_data.field, callback_data.value
    message = await forms.step_message(query, state, t, expected.get(field))
    if message is None:
        return
    if field == "kind" and value not in app.settings.patrols.hazard_kinds:
        await query.answer(t("errors.stale_button"), show_alert=True)
        return
    await query.answer()
    await message.edit_reply_markup(reply_markup=None)
    if field == "kind":
        await state.update_data(kind=value)
        await _ask_photo(message, state, t)
    else:
        await _ask_location(message, state, t)


async def _ask_photo(message: Message, state: FSMContext, t: Translator) -> None:
    await state.set_state(HazardForm.photo)
    await message.answer(t("patrols.hazard.photo_ask"), reply_markup=_skip(t, "photo"))


async def photo_sent(message: Message, state: FSMContext, t: Translator) -> None:
    assert message.photo
    await state.update_data(photo=message.photo[-1].file_id)
    await _ask_location(message, state, t)


async def ask_photo_again(message: Message, t: Translator) -> None:
    await message.answer(t("patrols.hazard.photo_only"), reply_markup=_skip(t, "photo"))


async def _ask_location(message: Message, state: FSMContext, t: Translator) -> None:
    await state.set_state(HazardForm.location)
    await message.answer(
        t("patrols.hazard.location_ask"), reply_markup=location_keyboard(t, with_skip=True)
    )


async def location_sent(message: Message, state: FSMContext, t: Translator) -> None:
    assert message.location is not None
    await state.update_data(lat=message.location.latitude, lon=message.location.longitude)
    await _ask_note(message, state, t)


async def location_text(message: Message, state: FSMContext, t: Translator) -> None:
    """In the location step, the keyboard's Skip arrives as text; anything else is re-asked."""
    if (message.text or "").strip() == t("common.skip"):
        await _ask_note(message, state, t)
        return
    await message.answer(
        t("patrols.use_location_button"), reply_markup=location_keyboard(t, with_skip=True)
    )


async def _ask_note(message: Message, state: FSMContext, t: Translator) -> None:
    await state.set_state(HazardForm.note)
    await message.answer(t("patrols.hazard.note_ask"), reply_markup=skip_keyboard(t))


async def note_typed(
    message: Message,
    state: FSMContext,
    actor: Actor,
    t: Translator,
    session: AsyncSession,
    app: AppContext,
) -> None:
    done_key = await once.start(message, session, app, t, actor.user_id)
    if done_key is None:
        return
    note = message.text or ""
    note = "" if note.strip() == t("common.skip") else note  # the keyboard's Skip
    answer = await _file(message, state, actor, t, session, app, note=note)
    if answer is not None:
        await once.remember(session, done_key, answer)


async def _file(
    message: Message,
    state: FSMContext,
    actor: Actor,
    t: Translator,
    session: AsyncSession,
    app: AppContext,
    *,
    note: str,
) -> str | None:
    data = await state.get_data()
    lat, lon = data.get("lat"), data.get("lon")
    draft = hazards.HazardDraft(
        kind=str(data.get("kind") or ""),
        note=note,
        photo_file_id=data.get("photo"),
        lat=float(lat) if lat is not None else None,
        lon=float(lon) if lon is not None else None,
    )
    try:
        found = await hazards.report(app, session, actor.user_id, draft)
    except UserError as err:
        await message.answer(t(err.key, **err.params))
        if err.key != "patrols.form.text_length":
            await state.clear()
        return None
    await state.clear()
    answer = t("patrols.hazard.filed", id=found.id, kind=cards.kind_name(t, found.kind))
    await message.answer(answer, reply_markup=kb.remove_reply_keyboard())
    return answer
