"""Patrollers' side of 治安巡查: /patrols, sign up or cancel, check in by location, code or QR.

Volunteers and grid workers (staff) may patrol; staff's /patrols opens their management list
(handlers/staff/patrols.py, earlier in the router order), so here a staff member arrives
only through a shift's card buttons.
"""

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
from bot.services.outreach.checkin import typed_pin
from bot.services.patrols import attendance, shifts
from bot.services.people.actors import Actor
from bot.tg import keyboards as kb
from bot.tg import once
from bot.tg import patrol_cards as cards
from bot.tg.callbacks_patrols import PatrolCb
from bot.tg.event_cards import when_text
from bot.tg.filters import PrivateChat, TypedText


class HasLocation(Filter):
    async def __call__(self, message: Message) -> bool:
        return message.location is not None


class PatrolCheckin(StatesGroup):
    location = State()
    code = State()


def location_keyboard(t: Translator, *, with_skip: bool = False) -> ReplyKeyboardMarkup:
    """The "send my location" button (and, in forms, a Skip button that sends its text)."""
    rows = [[KeyboardButton(text=t("patrols.send_location_button"), request_location=True)]]
    if with_skip:
        rows.append([KeyboardButton(text=t("common.skip"))])
    return ReplyKeyboardMarkup(keyboard=rows, resize_keyboard=True, one_time_keyboard=True)


def router() -> Router:
    r = Router(name="volunteer.patrols")
    r.message.filter(PrivateChat())
    r.callback_query.filter(PrivateChat())
    r.message.register(my_patrols, Command("patrols"))
    r.callback_query.register(patroller_action, PatrolCb.filter())
    r.message.register(location_sent, PatrolCheckin.location, HasLocation())
    r.message.register(use_location_button, PatrolCheckin.location)
    r.message.register(code_typed, PatrolCheckin.code, TypedText())
    r.message.register(code_in_digits, PatrolCheckin.code)
    return r


async def code_in_digits(message: Message, t: Translator) -> None:
    await message.answer(t("patrols.code_format"))


async def my_patrols(
    message: Message, actor: Actor, t: Translator, session: AsyncSession, app: AppContext
) -> None:
    try:
        listed = await shifts.upcoming(app, session, actor.user_id)
    except UserError as err:
        await message.answer(t(err.key, **err.params))
        return
    if not listed:
        await message.answer(t("patrols.none"))
        return
    lines, buttons = [t("patrols.list_head")], []
    for mine in listed:
        shift = mine.shift
        when = when_text(app, t, shift.starts_at, shift.ends_at)
        lines.append(
            t(
                "patrols.list_line",
                id=shift.id,
                name=shift.name,
                grid=shift.grid_name,
                when=when,
                state=cards.me_text(app, t, mine),
            )
        )
        data = PatrolCb(action="view", shift_id=shift.id).pack()
        buttons.append([kb.button(f"#{shift.id} {shift.name}", data)])
    await message.answer("\n".join(lines), reply_markup=kb.rows(*buttons))


async def patroller_action(
    query: CallbackQuery,
    callback_data: PatrolCb,
    state: FSMContext,
    actor: Actor,
    t: Translator,
    session: AsyncSession,
    app: AppContext,
) -> None:
    message = query.message
    shift_id, action = callback_data.shift_id, callback_data.action
    try:
        if action == "join":
            mine = await shifts.sign_up(app, session, shift_id, actor.user_id)
            toast: str | None = t("patrols.signed_up", name=mine.shift.name)
        elif action == "leave":
            mine = await shifts.cancel_signup(app, session, shift_id, actor.user_id)
            toast = t("patrols.left", name=mine.shift.name)
        elif action in ("loc", "code", "view"):
            mine = await shifts.my_shift(session, shift_id, actor.user_id)
            toast = None
        else:
            await query.answer(t("errors.stale_button"), show_alert=True)
            return
    except UserError as err:
        await query.answer(t(err.key, **err.params), show_alert=True)
        return
    await query.answer(toast)
    if not isinstance(message, Message):
        return
    if action == "loc":
        await state.set_state(PatrolCheckin.location)
        await state.set_data({"shift_id": shift_id})
        radius = app.settings.patrols.checkin_radius_m
        await message.answer(
            t("patrols.location_ask", radius=radius), reply_markup=location_keyboard(t)
        )
        return
    if action == "code":
        await state.set_state(PatrolCheckin.code)
        await message.answer(t("patrols.code_ask"))
        return
    card = cards.patroller_card(app, t, mine)
    if action == "view":
        await message.answer(card.text, reply_markup=card.markup)
    else:
        await message.edit_text(card.text, reply_markup=card.markup)


# --- check-in ------------------------------------------------------------------------------


async def _check_in(
    message: Message,
    actor: Actor,
    t: Translator,
    session: AsyncSession,
    app: AppContext,
    **how: object,
) -> bool:
    """Check in (keyed on the message: a replayed update checks in once); True when done."""
    done_key = await once.start(message, session, app, t, actor.user_id)
    if done_key is None:
        return True
    try:
        done = await attendance.check_in(app, session, actor.user_id, **how)  # type: ignore[arg-type]
    except UserError as err:
        await message.answer(t(err.key, **err.params))
        return False
    time = cards.clock(app, done.at)
    if done.distance_m is not None:
        answer = t(
            "patrols.checkin.done_distance",
            name=done.shift.name,
            time=time,
            distance=done.distance_m,
        )
    else:
        answer = t("patrols.checkin.done", name=done.shift.name, time=time)
    await once.remember(session, done_key, answer)
    await message.answer(answer, reply_markup=kb.remove_reply_keyboard())
    return True


async def location_sent(
    message: Message,
    state: FSMContext,
    actor: Actor,
    t: Translator,
    session: AsyncSession,
    app: AppContext,
) -> None:
    data = await state.get_data()
    assert message.location is not None
    point = (message.location.latitude, message.location.longitude)
    shift_id = int(data.get("shift_id") or 0)
    if await _check_in(message, actor, t, session, app, shift_id=shift_id, location=point):
        await state.clear()


async def use_location_button(message: Message, t: Translator) -> None:
    await message.answer(t("patrols.use_location_button"), reply_markup=location_keyboard(t))


async def code_typed(
    message: Message,
    state: FSMContext,
    actor: Actor,
    t: Translator,
    session: AsyncSession,
    app: AppContext,
) -> None:
    pin = typed_pin(message.text or "")
    if pin is None:
        await message.answer(t("patrols.code_format"))
        return
    await state.clear()
    await _check_in(message, actor, t, session, app, pin=pin)


async def start_patrol_checkin(
    message: Message,
    token: str,
    actor: Actor,
    t: Translator,
    session: AsyncSession,
    app: AppContext,
) -> None:
    """``/start pt_<token>``: the patroller scanned the shift's check-in QR code."""
    await _check_in(message, actor, t, session, app, token=token)
