"""Volunteer side of events: /events, sign up or cancel, check in by QR or code, check out."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command, CommandObject, Filter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot.i18n import Translator
from bot.services.context import AppContext
from bot.services.errors import UserError
from bot.services.outreach import checkin, signups
from bot.services.outreach.events import SignupState
from bot.services.people.actors import ROLE_VOLUNTEER, Actor
from bot.tg import event_cards as cards
from bot.tg import keyboards as kb
from bot.tg import once
from bot.tg.callbacks_events import EventCb
from bot.tg.filters import HasRole, PrivateChat, TypedText


class PinArgument(Filter):
    """Whether /checkin's argument is a 6-digit code (a volunteer) or not (staff: an event id)."""

    def __init__(self, pin: bool) -> None:
        self.pin = pin

    async def __call__(self, message: Message) -> bool:
        parts = (message.text or "").split(maxsplit=1)
        return checkin.is_pin(parts[1].strip() if len(parts) > 1 else "") == self.pin


class CheckinCode(StatesGroup):
    code = State()


def router() -> Router:
    r = Router(name="volunteer.events")
    r.message.filter(PrivateChat())
    r.callback_query.filter(PrivateChat())
    r.message.register(my_events, Command("events"), HasRole(ROLE_VOLUNTEER))
    r.message.register(checkin_command, Command("checkin"))
    r.message.register(code_typed, CheckinCode.code, TypedText())
    r.callback_query.register(volunteer_action, EventCb.filter())
    return r


# --- /events -------------------------------------------------------------------------------


async def my_events(
    message: Message, actor: Actor, t: Translator, session: AsyncSession, app: AppContext
) -> None:
    states = await signups.upcoming_for(app, session, actor.user_id)
    if not states:
        await message.answer(t("events.none_for_you"))
        return
    lines = [t("events.list_head")]
    buttons = []
    for state in states:
        event = state.event
        when = cards.when_text(app, t, event.starts_at, event.ends_at)
        status = cards.status_text(t, state)
        lines.append(t("events.list_line", id=event.id, title=event.title, when=when, state=status))
        data = EventCb(action="view", event_id=event.id).pack()
        buttons.append([kb.button(f"#{event.id} {event.title}", data)])
    await message.answer("\n".join(lines), reply_markup=kb.rows(*buttons))


# --- sign up, cancel, check out --------------------------------------------------------------


def signup_toast(t: Translator, state: SignupState) -> str:
    """What a volunteer is told after pressing Sign up (also the toast in a group)."""
    if state.status == "signed":
        return t("events.signed_up", title=state.event.title)
    return t("events.waitlisted", title=state.event.title, position=state.position or 1)


async def volunteer_action(
    query: CallbackQuery,
    callback_data: EventCb,
    actor: Actor,
    t: Translator,
    session: AsyncSession,
    app: AppContext,
) -> None:
    message = query.message
    event_id = callback_data.event_id
    try:
        if callback_data.action == "join":
            done_key = once.key_of(query)
            once.arm(session, done_key, actor.user_id)
            state = await signups.sign_up(app, session, event_id, actor.user_id)
            toast = signup_toast(t, state)
            await once.remember(session, done_key, toast)
        elif callback_data.action == "leave":
            state = await signups.cancel_signup(app, session, event_id, actor.user_id)
            toast = t("events.left", title=state.event.title)
        elif callback_data.action == "out":
            done = await checkin.check_out(app, session, actor.user_id, event_id)
            moment = done.at.astimezone(app.settings.tz)
            await query.answer(
                t("events.checked_out", title=done.event.title, time=f"{moment:%H:%M}")
            )
            if isinstance(message, Message):
                await message.edit_reply_markup(reply_markup=None)
            return
        else:  # view
            state = await signups.signup_state(session, event_id, actor.user_id)
            toast = None
    except UserError as err:
        await query.answer(t(err.key, **err.params), show_alert=True)
        return
    await query.answer(toast)
    if not isinstance(message, Message):
        return
    card = cards.volunteer_card(app, t, state)
    if callback_data.action == "view":
        await message.answer(card.text, reply_markup=card.markup)
    else:
        await message.edit_text(card.text, reply_markup=card.markup)


# --- check-in ------------------------------------------------------------------------------


def checkout_markup(t: Translator, event_id: int) -> InlineKeyboardMarkup:
    return kb.rows(
        [kb.button(t("events.check_out"), EventCb(action="out", event_id=event_id).pack())]
    )


async def _check_in(
    message: Message,
    actor: Actor,
    t: Translator,
    session: AsyncSession,
    app: AppContext,
    *,
    token: str | None = None,
    pin: str | None = None,
) -> None:
    done_key = await once.start(message, session, app, t, actor.user_id)
    if done_key is None:
        return
    try:
        done = await checkin.check_in(app, session, actor.user_id, token=token, pin=pin)
    except UserError as err:
        await message.answer(t(err.key, **err.params))
        return
    moment = done.at.astimezone(app.settings.tz)
    answer = t("events.checked_in", title=done.event.title, time=f"{moment:%H:%M}")
    await once.remember(session, done_key, answer)
    await message.answer(answer, reply_markup=checkout_markup(t, done.event.id))


async def start_checkin(
    message: Message,
    code: str,
    actor: Actor,
    t: Translator,
    session: AsyncSession,
    app: AppContext,
) -> None:
    """``/start ci_<code>``: the volunteer scanned the check-in QR code (``code`` is after ci_)."""
    await _check_in(message, actor, t, session, app, token=code)


async def checkin_command(
    message: Message,
    command: CommandObject,
    state: FSMContext,
    actor: Actor,
    t: Translator,
    session: AsyncSession,
    app: AppContext,
) -> None:
    """``/checkin 123456`` checks in; a bare ``/checkin`` asks for the code."""
    arg = (command.args or "").strip()
    if checkin.is_pin(arg):
        await state.clear()
        await _check_in(message, actor, t, session, app, pin=arg)
        return
    if not actor.has(ROLE_VOLUNTEER):
        await message.answer(t("events.volunteers_only"))
        return
    if arg:
        await message.answer(t("events.checkin.code_format"))
        return
    await state.set_state(CheckinCode.code)
    await message.answer(t("events.checkin.code_ask"))


async def code_typed(
    message: Message,
    state: FSMContext,
    actor: Actor,
    t: Translator,
    session: AsyncSession,
    app: AppContext,
) -> None:
    pin = checkin.typed_pin(message.text or "")
    if pin is None:
        await message.answer(t("events.checkin.code_format"))
        return
    await state.clear()
    await _check_in(message, actor, t, session, app, pin=pin)
